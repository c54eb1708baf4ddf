"""Writes to the side databases (analytics, logs) that must never break the caller.

A login must still succeed when the analytics server is down; the lost row is reported
to the normal log instead.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


def write_fail_soft(alias: str, write: Callable[[], T], *, what: str) -> T | None:
    try:
        with transaction.atomic(using=alias):
            return write()
    except DatabaseError as exc:
        logger.warning("Could not write %s to the %r database: %s", what, alias, exc.__class__.__name__)
        return None
