"""The reminder a customer gets the day before a confirmed booking."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.bookings.models import Booking, BookingStatus
from apps.bookings.notifications import booking_reminder_notify

REMINDER_AHEAD = timedelta(hours=24)
BATCH = 500


def bookings_send_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminder of every confirmed booking that starts within the next 24 hours and has
    none yet; how many were queued.

    Each batch locks its rows (skipping rows another run holds) and marks them in the same
    transaction as the messages, so overlapping runs never queue a reminder twice; the
    notification's idempotency key, which names the booking and its start, holds even so.
    Moving a booking clears its mark: the new time gets a reminder of its own.
    """
    now = now or timezone.now()
    queued = 0
    while True:
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer")
                .filter(
                    status=BookingStatus.CONFIRMED,
                    start__gt=now,
                    start__lte=now + REMINDER_AHEAD,
                    reminder_queued_at__isnull=True,
                )
                .order_by("start", "id")[:BATCH]
            )
            for booking in due:
                booking_reminder_notify(booking)
                booking.reminder_queued_at = now
            Booking.objects.bulk_update(due, ["reminder_queued_at"])
        queued += len(due)
        if len(due) < BATCH:
            return queued
