"""Audit trail reads other apps need."""

from django.db.models import Q, QuerySet

from apps.logs.models import AuditLog

USER_TARGET_TYPE = "accounts.user"  # `app_label.model` of the user model, as `audit` records it


def audit_entries_about_user(*, user_id: int) -> QuerySet[AuditLog]:
    """Every entry where the user acted or was acted on, newest first."""
    return AuditLog.objects.filter(
        Q(actor_id=user_id) | Q(target_type=USER_TARGET_TYPE, target_id=str(user_id))
    ).order_by("-created_at", "-id")
