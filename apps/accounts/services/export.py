"""The personal data export (`GET users/me/export/`): everything stored about the caller, across the
default, logs and analytics databases, as one JSON object.

Each section is read in a constant number of queries, whatever the rows. Every list is the newest
ACCOUNT_EXPORT_MAX_ROWS rows at most; `truncated` names the lists that had more. Secrets never
appear: not the password hash, TOTP secrets, the hashes of codes and recovery codes, nor tokens;
two-factor sign-in shows which methods are on, messages show what was stored (their links and codes
masked as sent). The apps above accounts add their own sections (apps.accounts.personal_data).
Each export is audited (`user.export`).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts import personal_data
from apps.accounts.models import AccountDeletion, AuthSession, RecoveryCode, SMSCode, TwoFactor, User
from apps.analytics.selectors import login_events_of_user
from apps.logs.selectors import audit_entries_about_user
from apps.logs.services import audit
from apps.notifications.models import Notification, NotificationPreference

Row = dict[str, Any]

SESSION_FIELDS = ("id", "created_at", "last_refreshed_at", "ended_at", "end_reason", "ip", "user_agent")
SMS_CODE_FIELDS = ("purpose", "phone", "created_at", "sent_at", "expires_at", "attempts", "used_at")
NOTIFICATION_FIELDS = (
    "id",
    "channel",
    "key",
    "category",
    "address",
    "context",
    "subject",
    "body",
    "status",
    "created_at",
    "sent_at",
    "read_at",
)
AUDIT_FIELDS = ("id", "created_at", "action", "actor_id", "target_type", "target_id", "changes", "ip")
LOGIN_EVENT_FIELDS = ("created_at", "email", "success", "method", "mfa_pending", "ip", "user_agent")


def _rows(queryset: QuerySet[Any], fields: Iterable[str], limit: int) -> list[Row]:
    """At most `limit + 1` rows (one more tells `_capped` the list was cut), plain values only."""
    return [
        {key: _plain(value) for key, value in row.items()} for row in queryset.values(*fields)[: limit + 1]
    ]


def _plain(value: Any) -> Any:
    # A phone number field reads back as a PhoneNumber: its E.164 text, as the API shows it.
    return str(value) if value.__class__.__name__ == "PhoneNumber" else value


def _profile(user: User) -> Row:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "full_name": user.full_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "email_verified_at": user.email_verified_at,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
    }


def _two_factor(user: User) -> Row:
    """Which methods are on, when, and how many recovery codes are left; never a secret."""
    row = TwoFactor.objects.filter(user=user).first()
    left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
    methods = []
    if row is not None and row.totp_enabled_at is not None:
        methods.append("totp")
    if row is not None and row.sms_enabled_at is not None:
        methods.append("sms")
    return {
        "enabled": bool(methods),
        "methods": methods,
        "totp_enabled_at": row.totp_enabled_at if row else None,
        "sms_enabled_at": row.sms_enabled_at if row else None,
        "last_used_at": row.last_used_at if row else None,
        "last_used_method": row.last_used_method if row else "",
        "recovery_codes_left": left,
    }


def _phone(user: User, limit: int) -> Row:
    codes = SMSCode.objects.filter(user=user).order_by("-created_at")
    return {
        "number": str(user.phone),
        "verified_at": user.phone_verified_at,
        "texted_codes": _rows(codes, SMS_CODE_FIELDS, limit),
    }


def _deletion(user: User) -> Row | None:
    row = AccountDeletion.objects.filter(user=user).values("requested_at", "erase_after", "erased_at").first()
    return dict(row) if row is not None else None


def _capped(section: Any, limit: int, path: str, truncated: list[str]) -> Any:
    """`section` with every list cut to `limit` rows, the cut ones named in `truncated`."""
    if isinstance(section, list):
        if len(section) > limit:
            truncated.append(path)
        return section[:limit]
    if isinstance(section, Mapping):
        return {key: _capped(value, limit, f"{path}.{key}", truncated) for key, value in section.items()}
    return section


def personal_data_export(*, user: User, request: Any = None) -> dict[str, Any]:
    """Everything stored about `user`; see the module's docstring."""
    limit = settings.ACCOUNT_EXPORT_MAX_ROWS
    sections: dict[str, Any] = {
        "profile": _profile(user),
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "sessions": _rows(
            AuthSession.objects.filter(user=user).order_by("-created_at"), SESSION_FIELDS, limit
        ),
        "two_factor": _two_factor(user),
        "phone": _phone(user, limit),
        "deletion": _deletion(user),
        "notifications": _rows(
            Notification.objects.filter(recipient=user).order_by("-created_at", "-id"),
            NOTIFICATION_FIELDS,
            limit,
        ),
        "notification_preferences": _rows(
            NotificationPreference.objects.filter(user=user).order_by("category", "channel"),
            ("category", "channel", "enabled"),
            limit,
        ),
        "audit_trail": _rows(audit_entries_about_user(user_id=user.pk), AUDIT_FIELDS, limit),
        "login_events": _rows(
            login_events_of_user(user_id=user.pk, email=user.email), LOGIN_EVENT_FIELDS, limit
        ),
    }
    for holder in personal_data.holders():
        if holder.export is not None:
            sections.update(holder.export(user, limit))
    truncated: list[str] = []
    capped = {name: _capped(section, limit, name, truncated) for name, section in sections.items()}
    audit(action="user.export", actor=user, target=user, request=request)
    return {"exported_at": timezone.now(), "max_rows": limit, "truncated": truncated, **capped}
