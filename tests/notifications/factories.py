from django.utils import timezone

from apps.notifications.models import Category, Channel, Notification


def in_app_message(make_user=None, *, owner=None, read: bool = False, **fields) -> Notification:
    """A delivered in-app message, as the delivery task leaves it."""
    now = timezone.now()
    return Notification.objects.create(
        recipient=owner or make_user(),
        channel=Channel.IN_APP,
        key=fields.pop("key", "low_stock"),
        category=fields.pop("category", Category.CATALOG),
        subject=fields.pop("subject", "Desk lamp is running low"),
        body=fields.pop("body", "3 left."),
        status=Notification.Status.SENT,
        next_attempt_at=now,
        sent_at=now,
        read_at=now if read else None,
        **fields,
    )
