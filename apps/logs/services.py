from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from apps.core.client_address import client_ip
from apps.core.fail_soft import write_fail_soft
from apps.core.request_context import current_request_id
from apps.logs.models import ApplicationLog, AuditLog
from apps.logs.selectors import audit_entries_about_user

# Values of these fields never reach the audit trail, only the fact that they changed.
SECRET_FIELD_MARKERS = ("password", "token", "secret", "otp")
REDACTED = "[redacted]"


def _redact(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        field: REDACTED if any(marker in field.lower() for marker in SECRET_FIELD_MARKERS) else value
        for field, value in changes.items()
    }


def audit(
    *,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    changes: dict[str, Any] | None = None,
    request: HttpRequest | Request | None = None,
    ip: str | None = None,
    request_id: str | None = None,
) -> AuditLog | None:
    """Record one action in the audit trail (logs database). Never raises for a database outage.

    `ip` and `request_id` come from `request` (or the current request); pass them explicitly
    where there is no request, as in a task acting on one.
    """
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    entry = AuditLog(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        changes=_redact(changes or {}),
        ip=ip or client_ip(request),
        request_id=request_id or getattr(request, "request_id", None) or current_request_id() or "",
    )

    def write() -> AuditLog:
        entry.save()
        return entry

    return write_fail_soft("logs", write, what=f"an audit entry ({action})")


def application_logs_prune(*, older_than_days: int) -> int:
    """Delete application log records older than the retention period; returns how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = ApplicationLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# The values of an erased person's own details in the entries about them (see below).
PERSONAL_FIELDS = ("email", "new_email", "username", "full_name", "phone", "old_phone")
ERASED = "[erased]"


def audit_personal_data_redact(*, user_id: int, batch_size: int = 500) -> int:
    """Blank the personal details of an erased user in the entries where they acted or were acted
    on; how many entries changed. What happened, when, and between which ids stays: the trail
    must still account for every change (to a booking, a role, a price) after its author leaves.
    The values of PERSONAL_FIELDS become ERASED and the IP address goes; the ids now name an
    anonymised account. Append-only otherwise: this is the one rewrite of an entry, and it is
    idempotent.
    """
    changed = 0
    pending: list[AuditLog] = []
    for entry in audit_entries_about_user(user_id=user_id).only("id", "changes", "ip").iterator():
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        redacted = {
            field: [ERASED if value not in (None, "") else value for value in values]
            if field in PERSONAL_FIELDS and isinstance(values, list)
            else values
            for field, values in changes.items()
        }
        if redacted == changes and entry.ip is None:
            continue
        entry.changes, entry.ip = redacted, None
        pending.append(entry)
        if len(pending) >= batch_size:
            changed += AuditLog.objects.bulk_update(pending, ["changes", "ip"])
            pending = []
    if pending:
        changed += AuditLog.objects.bulk_update(pending, ["changes", "ip"])
    return changed
