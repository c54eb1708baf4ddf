"""bookings.send_reminders: one reminder per confirmed booking in the next 24 hours, however often
beat runs it; email, in-app and (to a verified number) SMS."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.bookings.services import bookings_send_reminders
from apps.bookings.tasks import send_reminders
from apps.notifications import sms
from apps.notifications.models import Notification
from tests.bookings.factories import new_booking

pytestmark = pytest.mark.django_db(databases="__all__")


def in_hours(hours: float):
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_beat_runs_it_every_15_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["bookings-send-reminders"]
    assert (entry["task"], entry["schedule"]) == ("bookings.send_reminders", timedelta(minutes=15))


def test_confirmed_bookings_in_the_next_day_get_one_reminder(
    customer, provider, make_customer, django_capture_on_commit_callbacks
):
    customer.phone, customer.phone_verified_at = "+447700900123", timezone.now()
    customer.save()
    due = new_booking(customer=customer, provider=provider, start=in_hours(5), status="confirmed")
    new_booking(customer=make_customer(), provider=provider, start=in_hours(8), status="pending")
    new_booking(customer=make_customer(), provider=provider, start=in_hours(30), status="confirmed")
    new_booking(customer=make_customer(), provider=provider, start=in_hours(-1), status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 1
    sent = Notification.objects.filter(key="booking_reminder")
    assert {(n.recipient_id, n.channel) for n in sent} == {
        (customer.pk, c) for c in ("email", "in_app", "sms")
    }
    assert all(n.status == "sent" for n in sent), [n.last_error for n in sent]
    assert all(n.idempotency_key.startswith(f"booking:{due.pk}:reminder:") for n in sent)
    assert "with Pat Provider" in sms.outbox[-1].body
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 0
    assert Notification.objects.filter(key="booking_reminder").count() == 3


def test_a_moved_booking_gets_a_new_reminder(customer, provider):
    booking = new_booking(customer=customer, provider=provider, start=in_hours(20), status="confirmed")
    assert bookings_send_reminders() == 1
    booking.refresh_from_db()
    assert booking.reminder_queued_at is not None
    # As booking_update leaves it (tested below): a new start, no reminder for it yet.
    booking.start, booking.end = booking.start + timedelta(hours=1), booking.end + timedelta(hours=1)
    booking.reminder_queued_at = None
    booking.save()
    assert bookings_send_reminders() == 1
    assert Notification.objects.filter(key="booking_reminder", channel="email").count() == 2


def test_moving_a_booking_clears_its_reminder_mark(customer, provider, day):
    from apps.bookings.services import booking_update
    from tests.bookings.factories import local

    booking = new_booking(
        customer=customer,
        provider=provider,
        start=local(day, "10:00"),
        status="confirmed",
        reminder_queued_at=timezone.now(),
    )
    booking = booking_update(booking=booking, data={"start": local(day, "11:00")}, actor=provider)
    assert booking.reminder_queued_at is None


def test_running_it_twice_at_once_is_the_same_as_once(customer, provider):
    """The idempotency key holds even if the mark were lost."""
    booking = new_booking(customer=customer, provider=provider, start=in_hours(3), status="confirmed")
    bookings_send_reminders()
    type(booking).objects.filter(pk=booking.pk).update(reminder_queued_at=None)
    bookings_send_reminders()
    assert Notification.objects.filter(key="booking_reminder", channel="email").count() == 1


def test_a_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(customer, provider):
    booking = new_booking(customer=customer, provider=provider, start=in_hours(5), status="confirmed")
    bookings_send_reminders()
    booking.status, booking.cancelled_at = "cancelled", timezone.now()
    booking.save()
    from apps.notifications.services import notification_deliver

    notification = Notification.objects.get(key="booking_reminder", channel="email")
    notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == (
        "failed",
        "not needed: the booking is cancelled now",
    )
