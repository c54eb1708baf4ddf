import logging
import threading

from django.db import InterfaceError, OperationalError

from apps.core import fail_soft
from apps.core.request_context import current_request_id

_local = threading.local()


class DatabaseLogHandler(logging.Handler):
    """Store log records in ApplicationLog (logs database).

    Storing a record can itself log (a failing insert, Django's query logger), and the logs
    database can be down: a per-thread guard stops recursion, and every failure is dropped
    here because the console handler has already written the record.
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
