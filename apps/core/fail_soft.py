"""Writes to the side databases (analytics, logs) that must never break the caller.

A login must still succeed when the analytics server is down; the lost row is reported
to the normal log instead. After a connection failure the database is left alone for
SIDE_DB_RETRY_SECONDS, so an outage costs one connect timeout per process and window,
not one (or two: the log line about the failure wants the logs database too) per request.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

_unavailable_until: dict[str, float] = {}


def is_available(alias: str) -> bool:
    return time.monotonic() >= _unavailable_until.get(alias, 0.0)


def mark_unavailable(alias: str) -> None:
    _unavailable_until[alias] = time.monotonic() + settings.SIDE_DB_RETRY_SECONDS


def reset() -> None:
    """Forget every failure (tests, and a process that knows the database is back)."""
    _unavailable_until.clear()


def write_fail_soft(alias: str, write: Callable[[], T], *, what: str) -> T | None:
    if not is_available(alias):
        logger.warning("Skipped writing %s: the %r database was unreachable moments ago", what, alias)
        return None
    try:
        with transaction.atomic(using=alias):
            return write()
    except DatabaseError as exc:
        if isinstance(exc, OperationalError | InterfaceError):  # unreachable, not a bad row
            mark_unavailable(alias)
        logger.warning("Could not write %s to the %r database: %s", what, alias, exc.__class__.__name__)
        return None
