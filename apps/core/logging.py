import json
import logging
from datetime import UTC, datetime

from apps.core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request (or task) that produced it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # Django logs a response after the middleware has finished; the request still knows.
            request = getattr(record, "request", None)
            record.request_id = current_request_id() or getattr(request, "request_id", None) or "-"
        return True


class SkipClientErrors(logging.Filter):
    """Django logs every 4xx response as a WARNING, and every request for a host we do not
    serve as an ERROR; those are the client's mistakes, not ours, and anyone can make them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.security.DisallowedHost":
            return False
        if record.name == "django.request":
            status_code = getattr(record, "status_code", None)
            return status_code is None or status_code >= 500
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "module": record.module,
            "function": record.funcName,
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
