from django.conf import settings
from django.urls import is_valid_path
from django.utils.cache import add_never_cache_headers

from apps.core.exceptions import page_not_found
from apps.core.request_context import accept_or_create_request_id, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
API_PREFIX = "/api/"


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


class BodylessResponseMiddleware:
    """Send no body where HTTP forbids one: answers to HEAD, and 1xx, 204 and 304 responses.

    Django renders a HEAD like a GET and leaves dropping the body to the server. runserver and
    the test client drop it quietly; gunicorn drops it too but logs a WARNING each time, which
    the root logger would store as an ApplicationLog row: any anonymous HEAD could fill the table.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if request.method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            if response.streaming:
                # The original iterator's closers stay registered, so a file behind it still closes.
                response.streaming_content = []
            else:
                # A HEAD answer may state the length the GET would have (RFC 9110 §9.3.2); keep it.
                if request.method == "HEAD" and not response.has_header("Content-Length"):
                    response["Content-Length"] = str(len(response.content))
                response.content = b""
        return response


class NoStoreMiddleware:
    """Keep credentials and personal data out of every cache, shared or the browser's.

    Covers every API response (tokens from login and refresh, profiles, errors that name
    accounts) and any other response to a request that carried credentials (admin pages).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session_cookie = settings.SESSION_COOKIE_NAME
        if (
            _is_api_path(request.path_info)
            or "Authorization" in request.headers
            or session_cookie in request.COOKIES
            or session_cookie in response.cookies
        ):
            add_never_cache_headers(response)
        return response


class ContentSecurityPolicyMiddleware:
    """Put `CONTENT_SECURITY_POLICY` on every HTML page (the admin, Swagger UI, ReDoc, the browsable
    API): an injected script or a stray third-party resource cannot run or load there.

    Left off Django's debug page for a server error (DEBUG only), whose tracebacks open and close
    with inline scripts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.get("Content-Type", "").startswith("text/html")
            and "Content-Security-Policy" not in response
            and not (settings.DEBUG and response.status_code >= 500)
        ):
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class ApiPathMiddleware:
    """Under /api/: a URL missing its trailing slash is served as if it had one, and a URL that
    matches nothing is the JSON 404 every other API error looks like.

    CommonMiddleware would answer the slash-less URL with a redirect, which clients follow as a
    GET (losing a POST's body) and which Django refuses with a 500 in DEBUG; and with DEBUG an
    unknown URL would be Django's HTML debug page. Must come before CommonMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A slashed path needs nothing here unless DEBUG would answer its 404 with HTML; skipping
        # it spares every ordinary API request a second URL resolution.
        slashed_and_plain = request.path_info.endswith("/") and not settings.DEBUG
        if _is_api_path(request.path_info) and not slashed_and_plain:
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(request.path_info, urlconf):
                slashed = f"{request.path_info}/"
                match = not request.path_info.endswith("/") and is_valid_path(slashed, urlconf)
                if not match or not getattr(match.func, "should_append_slash", True):
                    return page_not_found(request)
                request.path_info = slashed
                request.path = f"{request.path}/"
        return self.get_response(request)


def _is_api_path(path_info: str) -> bool:
    return path_info.startswith(API_PREFIX) or path_info == API_PREFIX.rstrip("/")
