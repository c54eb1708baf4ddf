"""The errors a business rule raises: one hierarchy for every service and selector.

Services do not know about HTTP or about the admin. They raise a `DomainError` saying what was
refused and why; the API maps it to the JSON error shape once (`apps.core.exceptions`), and an
admin view shows its message. Each class fixes the HTTP status; a subclass (or the `code`
argument) fixes the stable `code`, which must be one of `apps.core.exceptions.ERROR_CODES`.

    raise InvalidInput({"email": [_("A user with that email already exists.")]})
    raise InvalidInput(_("Choose a later time."))          # a non-field error
    raise Conflict(_("The slot was just taken."))
    raise RateLimited(_("Too many texts lately."), wait=120)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.utils.functional import Promise

Message = str | Promise

NON_FIELD_ERRORS = "non_field_errors"


class DomainError(Exception):
    """A request the domain refuses. `message` is for people, `code` for machines."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    default_message: ClassVar[Message] = "The request could not be processed."

    def __init__(self, message: Message | None = None, *, code: str | None = None, extra_body=None):
        self.message: Message = message if message is not None else self.default_message
        self.code: str = code or self.default_code
        # What the error hands the client besides its message (the mfa_token of "enrol first").
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        super().__init__(str(self.message))

    @property
    def messages(self) -> list[str]:
        """Every message, flat: what an admin form shows."""
        return [str(self.message)]


class InvalidInput(DomainError):
    """The input breaks a rule; `field_errors` maps each field to its messages."""

    status_code = 400
    default_code = "validation_error"
    default_message: ClassVar[Message] = "Invalid input."

    def __init__(
        self, errors: Mapping[str, Message | Sequence[Message]] | Message, *, code: str | None = None
    ):
        if isinstance(errors, Mapping):
            self.field_errors: dict[str, list[Message]] = {
                field: [messages] if isinstance(messages, str | Promise) else list(messages)
                for field, messages in errors.items()
            }
        else:
            self.field_errors = {NON_FIELD_ERRORS: [errors]}
        first = next(iter(self.field_errors.values()))[0]
        super().__init__(first, code=code)

    @property
    def messages(self) -> list[str]:
        return [str(message) for messages in self.field_errors.values() for message in messages]


class AuthenticationFailed(DomainError):
    """The credentials (password, code, token) were refused."""

    status_code = 401
    default_code = "authentication_failed"
    default_message: ClassVar[Message] = "Incorrect authentication credentials."


class PermissionDenied(DomainError):
    """Signed in, but not allowed to do this."""

    status_code = 403
    default_code = "permission_denied"
    default_message: ClassVar[Message] = "You do not have permission to perform this action."


class NotFound(DomainError):
    """No such object, or not the caller's to see: the same answer for both."""

    status_code = 404
    default_code = "not_found"
    default_message: ClassVar[Message] = "Not found."


class Conflict(DomainError):
    """The request is valid but clashes with the current state of the resource."""

    status_code = 409
    default_code = "conflict"
    default_message: ClassVar[Message] = "The request conflicts with the current state of the resource."


class TooLarge(DomainError):
    """The input (an upload) is larger than the domain accepts."""

    status_code = 413
    default_code = "payload_too_large"
    default_message: ClassVar[Message] = "The request body is too large."


class UnsupportedMediaType(DomainError):
    """The input (an uploaded file) is not of a type the domain accepts."""

    status_code = 415
    default_code = "unsupported_media_type"
    default_message: ClassVar[Message] = "Unsupported media type."


class RateLimited(DomainError):
    """Too many of these lately; `wait` seconds until the next may go (None: unknown)."""

    status_code = 429
    default_code = "throttled"
    default_message: ClassVar[Message] = "Request was throttled."

    def __init__(self, message: Message | None = None, *, wait: float | None = None, code: str | None = None):
        self.wait = wait
        super().__init__(message, code=code)


__all__ = [
    "NON_FIELD_ERRORS",
    "AuthenticationFailed",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "TooLarge",
    "UnsupportedMediaType",
]
