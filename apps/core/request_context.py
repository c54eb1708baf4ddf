"""The id of the request being served, readable anywhere in the same thread or task."""

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# A client-supplied id is echoed into logs and responses, so only a safe, bounded shape is accepted.
_ACCEPTED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_or_create_request_id(incoming: str | None) -> str:
    if incoming and _ACCEPTED_REQUEST_ID.match(incoming):
        return incoming
    return new_request_id()
