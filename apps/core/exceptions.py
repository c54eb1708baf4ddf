"""One JSON shape for every error the API returns.

    {"code": "validation_error", "message": "Invalid input.",
     "field_errors": {"email": ["Enter a valid email address."]}, "request_id": "…"}

`code` is stable and machine-readable, `message` is for people, `field_errors` is present
only for validation errors and is keyed by field name.
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

from apps.core.request_context import current_request_id

logger = logging.getLogger(__name__)


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


def _translate(exc: Exception) -> Exception:
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
        field_errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
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
    exc = _translate(exc)
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
    "Conflict",
    "Http404",
    "PayloadTooLarge",
    "api_exception_handler",
    "bad_request",
    "error_body",
    "page_not_found",
    "permission_denied",
    "server_error",
]
