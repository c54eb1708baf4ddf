from typing import TYPE_CHECKING

from django.db.models import QuerySet

from apps.notifications.models import Category, Channel, Notification, NotificationPreference

if TYPE_CHECKING:
    from apps.accounts.models import User

# Everything is on unless the user turned it off, except marketing, which waits for a yes.
DEFAULT_ENABLED = {category: category != Category.MARKETING for category in Category.values}


def preferences_for(user: "User") -> dict[str, dict[str, bool]]:
    """{category: {channel: enabled}} for every category and channel, defaults filled in."""
    matrix = {
        category: dict.fromkeys(Channel.values, DEFAULT_ENABLED[category]) for category in Category.values
    }
    for category, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
        "category", "channel", "enabled"
    ):
        matrix[category][channel] = enabled
    return matrix


def inbox(*, user: "User") -> QuerySet[Notification]:
    """The user's delivered in-app messages, newest first."""
    return Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=Notification.Status.SENT
    ).order_by("-created_at", "-id")


def unread_count(*, user: "User") -> int:
    return inbox(user=user).filter(read_at__isnull=True).count()


def any_gone_out(*, idempotency_keys: list[str]) -> bool:
    """Whether a message with one of these keys has been sent or is being sent."""
    return Notification.objects.filter(
        idempotency_key__in=idempotency_keys,
        status__in=[Notification.Status.SENDING, Notification.Status.SENT],
    ).exists()
