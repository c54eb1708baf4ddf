import logging

from celery import shared_task
from django.core.management import call_command

logger = logging.getLogger(__name__)


@shared_task(name="accounts.send_password_reset")
def send_password_reset(email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """Queue a reset link if an active account has this address (False when none has); the
    notification pipeline sends it and retries."""
    from apps.accounts.services import password_reset_send  # services queue this task

    return password_reset_send(email=email, ip=ip, request_id=request_id)


@shared_task(name="accounts.send_password_reset_code")
def send_password_reset_code(phone: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """Queue a reset code by SMS if an active account has verified this number (False when none
    has, or when SMS is its second factor)."""
    from apps.accounts.services import password_reset_code_send  # services queue this task

    return password_reset_code_send(phone=phone, ip=ip, request_id=request_id)


@shared_task(name="accounts.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens (and their blacklist entries), and sessions none of whose
    tokens can still be valid, from the default database."""
    from apps.accounts.services import sessions_prune  # services queue this module's tasks

    call_command("flushexpiredtokens")
    sessions_prune()


@shared_task(name="accounts.send_account_reactivation")
def send_account_reactivation(email: str, ip: str | None = None, request_id: str | None = None) -> bool:
    """Queue a reactivation link if a closed account not yet erased has this address."""
    from apps.accounts.services import account_reactivation_send  # services queue this task

    return account_reactivation_send(email=email, ip=ip, request_id=request_id)


@shared_task(name="accounts.erase_closed_accounts")
def erase_closed_accounts() -> int:
    """Erase the closed accounts whose grace period (ACCOUNT_DELETION_GRACE_DAYS) is over."""
    from apps.accounts.services import accounts_erase_due  # services queue this module's tasks

    return accounts_erase_due()
