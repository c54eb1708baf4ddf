from apps.core.request_context import accept_or_create_request_id, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Accept the caller's X-Request-ID (or create one), expose it to logging, return it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_create_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
