"""Leaving and coming back: closing an account, reactivating it, and erasing it for good.

    DELETE users/me/ ──> closed (inactive) ──reactivate (emailed link)──> active again
                              │
                              └── ACCOUNT_DELETION_GRACE_DAYS later ──> erased (anonymised)

Closing (`account_close`) takes effect at once: the account is inactive, every session and token
ends, each app above accounts does its part (`apps.accounts.personal_data`: bookings cancels the
future active ones, telling the other party), messages still queued for the user are dropped, and an
`AccountDeletion` row says when the account will be erased. Until then the owner can ask for a
reactivation link by email (`account_reactivation_request`; the same answer whether or not the
address has a closed account) and follow it (`account_reactivate`); past bookings are intact, the
cancelled ones stay cancelled.

Erasure (`accounts_erase_due`, a periodic task) keeps the user row, because bookings keep pointing
at it (PROTECT) for the other party's records, but empties it: a placeholder address and username
(the real address is free to register again), no name, phone, password, roles or second factors.
Sessions, codes, challenges, messages and preferences are deleted; the audit entries about the user
keep what happened and the ids, their personal values and IP addresses redacted; the login events
of the account or its address are deleted.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.accounts import personal_data
from apps.accounts.models import (
    AccountDeletion,
    AuthSession,
    RecoveryCode,
    SMSCode,
    TwoFactor,
    TwoFactorChallenge,
    User,
)
from apps.accounts.services.sessions import sessions_end_all
from apps.accounts.tokens import reactivation_token_read
from apps.analytics.services import login_events_erase
from apps.core.client_address import client_ip
from apps.core.errors import InvalidInput
from apps.core.request_context import current_request_id
from apps.logs.services import audit, audit_personal_data_redact
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notify

REACTIVATION_LINK_REFUSED = _("This link is invalid or has expired.")
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real address


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@{ERASED_DOMAIN}"


def _pending_messages_drop(user: User) -> int:
    return Notification.objects.filter(recipient=user, status=Notification.Status.QUEUED).update(
        status=Notification.Status.FAILED, last_error="withdrawn: the account was closed"
    )


# --- Closing --------------------------------------------------------------------------------------------
def account_deactivate(*, user: User, actor: User, request: HttpRequest | Request | None = None) -> None:
    """What closing an account and staff's deactivation share: the account cannot sign in from now
    on, every session and token of it dies, and the audit trail says who did it."""
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    sessions_end_all(user=user, reason=AuthSession.EndReason.DEACTIVATED)
    audit(
        action="user.deactivate",
        actor=actor,
        target=user,
        changes={"is_active": [True, False]} if was_active else {},
        request=request,
    )


@transaction.atomic
def account_close(*, user: User, password: str, request: HttpRequest | None = None) -> AccountDeletion:
    """The owner closes their account, with their password; erased ACCOUNT_DELETION_GRACE_DAYS on
    unless reactivated."""
    if not user.check_password(password):
        raise InvalidInput({"password": [_("Your password is wrong.")]})
    user = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    account_deactivate(user=user, actor=user, request=request)
    for holder in personal_data.holders():
        if holder.close is not None:
            holder.close(user, request)
    _pending_messages_drop(user)  # after the holders: what they queued for the user goes too
    deletion, _created = AccountDeletion.objects.update_or_create(
        user=user,
        defaults={
            "requested_at": now,
            "erase_after": now + timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS),
            "erased_at": None,
        },
    )
    audit(
        action="user.delete_request",
        actor=user,
        target=user,
        changes={"erase_after": [None, deletion.erase_after.isoformat()]},
        request=request,
    )
    notify(user=user, key="account_closed", context={"erase_after": deletion.erase_after.isoformat()})
    return deletion


# --- Coming back ----------------------------------------------------------------------------------------
def account_reactivation_request(*, email: str, request: HttpRequest | None = None) -> None:
    """Email a reactivation link if a closed account not yet erased has this address; say nothing
    either way. The lookup happens in the task, so the answer takes the same time either way."""
    from apps.accounts.tasks import send_account_reactivation  # the task calls back into this module

    ip, request_id = client_ip(request), getattr(request, "request_id", None) or current_request_id()
    transaction.on_commit(
        lambda: send_account_reactivation.delay(email, ip=ip, request_id=request_id), robust=True
    )


@transaction.atomic
def account_reactivation_send(*, email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """The task's half of a reactivation request: find the closed account and email it a link."""
    deletion = (
        AccountDeletion.objects.select_related("user")
        .filter(
            user__in=User.objects.with_email(email), erased_at__isnull=True, erase_after__gt=timezone.now()
        )
        .first()
    )
    if deletion is None:
        return False
    audit(action="user.reactivation_request", target=deletion.user, ip=ip, request_id=request_id)
    notify(
        user=deletion.user,
        key="account_reactivate",
        context={"requested_at": deletion.requested_at.isoformat()},
    )
    return True


@transaction.atomic
def account_reactivate(*, token: str, request: HttpRequest | None = None) -> User:
    """Open a closed account again with the emailed link's token: active, the erasure called off.
    Its old sessions stay ended: the owner signs in again."""
    claim = reactivation_token_read(token)
    deletion = None
    if claim is not None:
        # Locked: two concurrent uses of the single-use link must not both pass the check.
        deletion = (
            AccountDeletion.objects.select_for_update()
            .select_related("user")
            .filter(user_id=claim.user_id, erased_at__isnull=True, erase_after__gt=timezone.now())
            .first()
        )
    if claim is None or deletion is None or deletion.requested_at.isoformat() != claim.requested_at:
        raise InvalidInput({"token": [REACTIVATION_LINK_REFUSED]})
    user: User = deletion.user
    deletion.delete()
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    audit(
        action="user.reactivate",
        actor=user,
        target=user,
        changes={"is_active": [False, True]},
        request=request,
    )
    return user


def account_deletion_cancel(*, user: User) -> bool:
    """Call off a pending erasure (staff activating the account again); whether one was pending."""
    deleted, _ = AccountDeletion.objects.filter(user=user, erased_at__isnull=True).delete()
    return bool(deleted)


# --- Erasure --------------------------------------------------------------------------------------------
def accounts_erase_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Erase the closed accounts whose grace period is over, at most `limit` a run; how many."""
    now = now or timezone.now()
    due = list(
        AccountDeletion.objects.filter(erased_at__isnull=True, erase_after__lte=now)
        .order_by("erase_after")
        .values_list("user_id", flat=True)[:limit]
    )
    return sum(account_erase(user_id=user_id, now=now) for user_id in due)


def account_erase(*, user_id: int, now: datetime | None = None) -> bool:
    """Erase one closed account whose grace period is over; False when there is nothing to do
    (reactivated, erased already, not due, or active again by staff, whose pending erasure is then
    called off). Idempotent: the logs and analytics databases are cleaned first, so a failure of
    the last step leaves the account due, and the next run does it all again."""
    now = now or timezone.now()
    deletion = (
        AccountDeletion.objects.select_related("user")
        .filter(user_id=user_id, erased_at__isnull=True, erase_after__lte=now)
        .first()
    )
    if deletion is None:
        return False
    if deletion.user.is_active:
        deletion.delete()
        return False
    audit_personal_data_redact(user_id=user_id)
    login_events_erase(user_id=user_id, email=deletion.user.email)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        for holder in personal_data.holders():
            if holder.erase is not None:
                holder.erase(user)
        for model in (AuthSession, RecoveryCode, SMSCode, TwoFactorChallenge, TwoFactor):
            model.objects.filter(user=user).delete()
        Notification.objects.filter(recipient=user).delete()
        NotificationPreference.objects.filter(user=user).delete()
        OutstandingToken.objects.filter(user=user).delete()
        user.groups.clear()
        user.user_permissions.clear()
        user.email = erased_email(user.pk)
        user.username = f"erased-{user.pk}"
        user.full_name = ""
        user.phone, user.phone_verified_at = "", None
        user.email_verified_at = None
        user.is_active = user.is_staff = user.is_superuser = False
        user.last_login = None
        user.set_unusable_password()
        user.save()
        AccountDeletion.objects.filter(pk=user.pk).update(erased_at=now)
        audit(action="user.erase", target=user)
    return True
