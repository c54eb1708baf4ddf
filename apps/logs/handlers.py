import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError

from apps.core import fail_soft
from apps.core.request_context import current_request_id

_local = threading.local()

# Causes tracked at once per process; past that, new causes share one budget.
MAX_CAUSES = 1000
_OVERFLOW = ("*", "(too many causes at once)", "", "")


@dataclass
class _Window:
    started: float
    written: int = 0
    dropped: int = 0


class CauseLimiter:
    """At most `limit` records of one cause in each window of `seconds`, per process.

    A cause is the logger, the message's template (before its arguments), the exception's type
    and where it was raised (else where it was logged): one bug reached by any number of requests
    is one cause, two bugs are two. A client that can make one request fail can otherwise write a
    row with a traceback per request into the logs database. Records past the limit are counted
    and dropped (the console still has them); when a window with drops ends, `ended()` hands back
    its count, for one summary row.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[tuple, _Window] = {}

    def admit(self, cause: tuple, *, now: float, limit: int, seconds: int) -> tuple[bool, list]:
        """Whether to write this record, and the ended windows that dropped records:
        `[(cause, dropped, started), ...]`."""
        with self._lock:
            ended = [
                (key, window)
                for key, window in self._windows.items()
                if now - window.started >= seconds or now < window.started
            ]
            for key, _window in ended:
                del self._windows[key]
            if cause not in self._windows and len(self._windows) >= MAX_CAUSES:
                cause = _OVERFLOW
            window = self._windows.setdefault(cause, _Window(started=now))
            admitted = window.written < limit
            if admitted:
                window.written += 1
            else:
                window.dropped += 1
        return admitted, [(key, window.dropped, window.started) for key, window in ended if window.dropped]

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


limiter = CauseLimiter()


def cause_of(record: logging.LogRecord) -> tuple:
    exc_type, where = "", f"{record.pathname}:{record.lineno}"
    if record.exc_info and record.exc_info[0] is not None:
        exc_type = record.exc_info[0].__qualname__
        tb = record.exc_info[2]
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
    return (record.name, str(record.msg)[:500], exc_type, where)


def _summary(cause: tuple, dropped: int, started: float, seconds: int) -> dict:
    logger_name, template, exc_type, where = cause
    since = datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")
    what = f"{template} ({exc_type} at {where})" if exc_type else f"{template} (at {where})"
    return {
        "level": "WARNING",
        "logger": logger_name[:200],
        "message": f"{dropped} more records like this were dropped in the {seconds} s from {since}: {what}",
    }


class DatabaseLogHandler(logging.Handler):
    """Store log records in ApplicationLog (logs database).

    Storing a record can itself log (a failing insert, Django's query logger), and the logs
    database can be down: a per-thread guard stops recursion, and every failure is dropped
    here because the console handler has already written the record. One cause writes at most
    APPLICATION_LOG_MAX_PER_CAUSE rows per APPLICATION_LOG_CAUSE_WINDOW_SECONDS (`CauseLimiter`);
    the rest are counted, and summed up in one row once the window is over.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(_local, "emitting", False) or not fail_soft.is_available("logs"):
            return
        _local.emitting = True
        try:
            from django.apps import apps

            if not apps.ready:
                return
            from apps.logs.models import ApplicationLog

            seconds = settings.APPLICATION_LOG_CAUSE_WINDOW_SECONDS
            admitted, ended = limiter.admit(
                cause_of(record),
                now=time.time(),
                limit=settings.APPLICATION_LOG_MAX_PER_CAUSE,
                seconds=seconds,
            )
            for cause, dropped, started in ended:
                ApplicationLog.objects.create(**_summary(cause, dropped, started, seconds))
            if not admitted:
                return
            traceback = ""
            if record.exc_info:
                traceback = logging.Formatter().formatException(record.exc_info)
            ApplicationLog.objects.create(
                level=record.levelname if record.levelname in ApplicationLog.Level.values else "WARNING",
                logger=record.name[:200],
                message=record.getMessage(),
                module=(record.module or "")[:200],
                function=(record.funcName or "")[:200],
                traceback=traceback,
                request_id=(getattr(record, "request_id", None) or current_request_id() or "")[:128].strip(
                    "-"
                ),
            )
        except (OperationalError, InterfaceError):
            fail_soft.mark_unavailable("logs")
        except Exception:  # noqa: S110 - a log sink must never raise into the code that logged
            pass
        finally:
            _local.emitting = False
