import logging
from smtplib import SMTPException

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.core.management import call_command

from apps.accounts.emails import AccountEmail, account_email_send
from apps.accounts.models import User

logger = logging.getLogger(__name__)

# Failures worth another try: the mail service or the network, not a bad address.
TRANSIENT_EMAIL_ERRORS = (AnymailAPIError, SMTPException, ConnectionError, TimeoutError)
EMAIL_RETRY_POLICY = {
    "autoretry_for": TRANSIENT_EMAIL_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(
    name="accounts.send_account_email",
    **EMAIL_RETRY_POLICY,
)
def send_account_email(user_id: int, kind: str) -> bool:
    """Send one account email; skipped (False) when it no longer makes sense."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    if kind == AccountEmail.VERIFY_EMAIL and user.is_email_verified:
        return False  # verified in the meantime: a retry or duplicate must not send a dead link
    account_email_send(user=user, kind=AccountEmail(kind))
    logger.info("Sent %s email to user %s", kind, user_id)
    return True


@shared_task(
    name="accounts.send_email_change_confirmation",
    **EMAIL_RETRY_POLICY,
)
def send_email_change_confirmation(user_id: int, new_email: str) -> bool:
    """Send the confirmation link to the new address; skipped (False) for an inactive account."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    account_email_send(user=user, kind=AccountEmail.EMAIL_CHANGE_CONFIRM, new_email=new_email)
    logger.info("Sent %s email for user %s", AccountEmail.EMAIL_CHANGE_CONFIRM.value, user_id)
    return True


@shared_task(
    name="accounts.send_password_reset",
    **EMAIL_RETRY_POLICY,
)
def send_password_reset(email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """Email a reset link if an active account has this address (False when none has)."""
    from apps.accounts.services import password_reset_send  # services queue this task

    return password_reset_send(email=email, ip=ip, request_id=request_id)


@shared_task(name="accounts.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens (and their blacklist entries), and sessions none of whose
    tokens can still be valid, from the default database."""
    from apps.accounts.services import sessions_prune  # services queue this module's tasks

    call_command("flushexpiredtokens")
    sessions_prune()
