"""One JSON shape for every error the API returns.

    {"code": "validation_error", "message": "Invalid input.",
     "field_errors": {"email": ["Enter a valid email address."]}, "request_id": "…"}

`code` is stable and machine-readable and always one of ERROR_CODES (the OpenAPI `Error` schema
enumerates them and the README lists them), `message` is for people. `field_errors` is present only
for validation errors: keyed by field name, a nested field or list item by its dotted path
(`address.city`, `permissions.1`), each value a list of messages.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from apps.core import errors
from apps.core.request_context import current_request_id

logger = logging.getLogger(__name__)

# Every `code` the API answers with: code -> (HTTP status, meaning). One registry, so that the
# schema, the README and the tests cannot drift from what the server says.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "validation_error": (
        400,
        "The input is invalid; `field_errors` says where and why. A body field the endpoint does not "
        "take (unknown or read-only) is an error on that field, never silently ignored.",
    ),
    "parse_error": (400, "The body is not valid JSON, or is nested too deeply."),
    "bad_request": (400, "The request could not be processed (outside the API views)."),
    "not_authenticated": (401, "No credentials were sent."),
    "authentication_failed": (401, "The credentials were refused."),
    "token_not_valid": (401, "The token is malformed, tampered with, of the wrong type or names no account."),
    "token_expired": (401, "The access token has expired; refresh it."),
    "session_ended": (401, "The token's session has ended (signed out, password changed, reuse)."),
    "invalid_credentials": (401, "Wrong email or password."),
    "user_inactive": (401, "The account is deactivated."),
    "password_changed": (401, "The password changed after the token was issued."),
    "bad_authorization_header": (401, "The `Authorization` header is not `Bearer <token>`."),
    "mfa_token_invalid": (401, "The mfa_token is unknown, used up or expired; sign in again."),
    "permission_denied": (403, "Signed in, but not allowed to do this."),
    "mfa_enrolment_required": (
        403,
        "A staff account must turn on two-factor sign-in first; the body's `mfa_token` opens the "
        "enrolment endpoints (`enrol_at`).",
    ),
    "email_not_verified": (403, "Verify the account's email address first (adding a phone number needs it)."),
    "not_found": (404, "No such resource or page, or not yours to see."),
    "method_not_allowed": (405, "The resource does not support this HTTP method."),
    "not_acceptable": (406, "No representation matches the `Accept` header; ask for JSON."),
    "conflict": (409, "The request clashes with the current state of the resource."),
    "payload_too_large": (413, "The body is larger than the server accepts."),
    "unsupported_media_type": (
        415,
        "The body is not `application/json` (multipart/form-data for uploads), or the uploaded file is "
        "not of a type the endpoint accepts.",
    ),
    "throttled": (429, "Too many requests; retry after `Retry-After` seconds."),
    "server_error": (500, "Something failed on our side; the request id finds it in the logs."),
    "query_timeout": (
        503,
        "The query took longer than the server allows and was stopped; narrow it down, or try again later.",
    ),
}


class Conflict(exceptions.APIException):
    """The request is valid but clashes with the current state of the resource."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


def error_body(code: str, message: str, field_errors=None) -> dict:
    body = {"code": code, "message": str(message), "request_id": current_request_id()}
    if field_errors is not None:
        body["field_errors"] = field_errors
    return body


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def flatten_field_errors(detail) -> dict[str, list[str]]:
    """DRF's nested error detail as `{dotted.path: [message, ...]}`.

    DRF nests errors the way the input was nested: a dict per object, a dict keyed by index for a
    list field's items, a list of dicts for a list of objects. Clients get one flat mapping whose
    keys say where each error is and whose values are always lists of strings, as the schema says.
    """
    flat: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, dict | list):
                    walk(item, f"{path}.{index}" if path else str(index))
                else:
                    flat.setdefault(path or "non_field_errors", []).append(str(item))
        else:
            flat.setdefault(path or "non_field_errors", []).append(str(node))

    walk(detail, "")
    return flat


def _from_domain(exc: errors.DomainError, context) -> exceptions.APIException:
    """The API's answer to a refusal of the domain: its status, code, message and extra body."""
    api_exc: exceptions.APIException
    if isinstance(exc, errors.InvalidInput):
        api_exc = exceptions.ValidationError(
            {field: [str(message) for message in messages] for field, messages in exc.field_errors.items()}
        )
    elif isinstance(exc, errors.RateLimited):
        api_exc = exceptions.Throttled(wait=exc.wait, detail=str(exc.message), code=exc.code)
    elif isinstance(exc, errors.AuthenticationFailed):
        api_exc = exceptions.AuthenticationFailed(str(exc.message), code=exc.code)
        # What APIView.handle_exception does for DRF's own 401s, which it saw before this handler
        # did: name the scheme in WWW-Authenticate, or answer 403 where the view has none.
        view, request = context.get("view"), context.get("request")
        header = view.get_authenticate_header(request) if view is not None and request is not None else None
        if header:
            api_exc.auth_header = header
        else:
            api_exc.status_code = status.HTTP_403_FORBIDDEN
    else:
        api_exc = exceptions.APIException(str(exc.message), code=exc.code)
        api_exc.status_code = exc.status_code
    api_exc.extra_body = exc.extra_body
    return api_exc


def _translate(exc: Exception, context) -> Exception:
    if isinstance(exc, errors.DomainError):
        return _from_domain(exc, context)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args[:1])  # services explain why; keep it
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(_("The request could not be processed."))
    return exc


def _body_for(exc: exceptions.APIException) -> dict:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        field_errors = flatten_field_errors(detail)
        non_field = field_errors.get("non_field_errors")
        message = _first_message(non_field) if non_field else _("Invalid input.")
        return error_body("validation_error", message, field_errors)
    if isinstance(detail, dict):
        # SimpleJWT raises {"detail": …, "code": …, "messages": […]} for bad tokens.
        code = str(detail.get("code") or exc.default_code)
        return error_body(code, detail.get("detail") or _first_message(detail))
    if isinstance(detail, list):
        return error_body(exc.default_code, _first_message(detail))
    return error_body(getattr(detail, "code", None) or exc.default_code, detail)


def api_exception_handler(exc, context):
    exc = _translate(exc, context)
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.error("Unhandled error in %s", view.__class__.__name__ if view else "view", exc_info=exc)
        set_rollback()
        response = Response(
            error_body("server_error", _("Something went wrong on our side.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
        response._has_been_logged = True  # logged above with its traceback; Django need not again
        return response
    response.data = _body_for(exc)
    # What an error hands the client besides its message (the mfa_token of "enrol first").
    response.data.update(getattr(exc, "extra_body", {}))
    return response


# --- Errors raised outside DRF views (unknown URLs, middleware), same shape -----------------------------
def _django_error(request, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def bad_request(request, exception=None):
    return _django_error(request, "bad_request", _("The request could not be processed."), 400)


def permission_denied(request, exception=None):
    return _django_error(request, "permission_denied", _("You do not have permission to do that."), 403)


def page_not_found(request, exception=None):
    return _django_error(request, "not_found", _("Not found."), 404)


def server_error(request):
    return _django_error(request, "server_error", _("Something went wrong on our side."), 500)


__all__ = [
    "ERROR_CODES",
    "Conflict",
    "Http404",
    "PayloadTooLarge",
    "api_exception_handler",
    "bad_request",
    "error_body",
    "flatten_field_errors",
    "page_not_found",
    "permission_denied",
    "server_error",
]
