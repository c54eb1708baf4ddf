from django.db.models import Q

from apps.analytics.models import LoginEvent
from apps.core.fail_soft import write_fail_soft

USER_AGENT_MAX_LENGTH = LoginEvent._meta.get_field("user_agent").max_length
EMAIL_MAX_LENGTH = LoginEvent._meta.get_field("email").max_length


def login_event_create(
    *,
    email: str,
    success: bool,
    method: str = LoginEvent.Method.PASSWORD,
    user_id: int | None = None,
    mfa_pending: bool = False,
    ip: str | None = None,
    user_agent: str = "",
) -> LoginEvent | None:
    """Write one LoginEvent row, as given, in the analytics database. Never raises for a database
    outage. What a sign-in records is decided by its caller (accounts' `login_attempt_record`)."""
    event = LoginEvent(
        user_id=user_id,
        email=(email or "")[:EMAIL_MAX_LENGTH],
        success=success,
        method=method,
        mfa_pending=mfa_pending,
        ip=ip or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )

    def write() -> LoginEvent:
        event.save()
        return event

    return write_fail_soft("analytics", write, what="a login event")


def login_events_erase(*, user_id: int, email: str) -> int:
    """Delete the sign-in record of an erased account: its events, and the attempts that named its
    address (the address is personal data, and a failed attempt has no user id). How many went."""
    deleted, _ = LoginEvent.objects.filter(Q(user_id=user_id) | Q(email=email)).delete()
    return deleted
