"""Booking messages cannot flood a provider.

Making and cancelling a booking each message the provider, with the customer's text in them. Both
writes are rate-limited per customer and per customer and provider; and a booking cancelled before
the provider's delayed "booking made" message went out sends the provider nothing at all.
"""

import pytest
from django.core import mail
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.throttles import BookingChangePerProviderThrottle, BookingChangeThrottle
from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver
from apps.notifications.tasks import deliver
from tests.bookings.factories import local

pytestmark = pytest.mark.django_db(databases="__all__")


def cancel(api, user, booking_id: int, reason: str = "x" * 500):
    return api(user).post(f"/api/v1/bookings/{booking_id}/cancel/", {"reason": reason})


def messages_to(user, **filters):
    return Notification.objects.filter(recipient=user, **filters)


def deliver_now(user) -> None:
    for pk in messages_to(user, status="queued").values_list("pk", flat=True):
        notification_deliver(notification_id=pk)


# --- Rate limits -----------------------------------------------------------------------------------------
def test_booking_and_cancelling_in_a_loop_is_stopped_per_customer_and_provider(
    api, book, customer, provider, day
):
    """The security test's loop: 25 rounds of book + cancel, each with 500 characters of text."""
    start = local(day, "10:00")
    answers = []
    for _ in range(25):
        made = book(customer, provider, start, notes="y" * 500)
        answers.append(made.status_code)
        if made.status_code == 201:
            answers.append(cancel(api, customer, made.json()["id"]).status_code)
    # THROTTLE_BOOKING_CHANGES_PER_PROVIDER_RATE: ten changes an hour between these two.
    assert answers[:10] == [201, 200] * 5
    assert set(answers[10:]) == {429}
    assert Booking.objects.filter(customer=customer).count() == 5


def test_the_limit_answers_429_with_retry_after(api, book, customer, provider, day, monkeypatch):
    monkeypatch.setattr(
        BookingChangePerProviderThrottle, "THROTTLE_RATES", {"booking_changes_per_provider": "1/hour"}
    )
    assert book(customer, provider, local(day, "10:00")).status_code == 201
    response = book(customer, provider, local(day, "12:00"))
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_another_provider_has_a_budget_of_its_own_up_to_the_customers(
    api, book, customer, provider, make_provider, day, monkeypatch
):
    monkeypatch.setattr(
        BookingChangePerProviderThrottle, "THROTTLE_RATES", {"booking_changes_per_provider": "1/hour"}
    )
    monkeypatch.setattr(BookingChangeThrottle, "THROTTLE_RATES", {"booking_changes": "2/hour"})
    other, third = make_provider(), make_provider()
    assert book(customer, provider, local(day, "10:00")).status_code == 201
    assert book(customer, other, local(day, "12:00")).status_code == 201
    assert book(customer, third, local(day, "14:00")).status_code == 429  # the customer's budget


def test_a_cancellation_by_the_provider_is_not_counted_against_anyone(
    api, book, customer, provider, day, monkeypatch
):
    monkeypatch.setattr(BookingChangeThrottle, "THROTTLE_RATES", {"booking_changes": "2/hour"})
    ids = [book(customer, provider, local(day, clock)).json()["id"] for clock in ("10:00", "12:00")]
    for booking_id in ids:
        assert cancel(api, provider, booking_id).status_code == 200
    assert book(customer, provider, local(day, "14:00")).status_code == 429  # the customer's two count


def test_a_cancellation_counts_for_its_customer(api, book, customer, provider, day, monkeypatch):
    monkeypatch.setattr(BookingChangeThrottle, "THROTTLE_RATES", {"booking_changes": "2/hour"})
    booking_id = book(customer, provider, local(day, "10:00")).json()["id"]
    assert cancel(api, customer, booking_id).status_code == 200
    other = book(customer, provider, local(day, "12:00"))
    assert other.status_code == 429


# --- A booking cancelled before the provider heard of it ----------------------------------------------
def test_the_providers_booking_made_message_waits_the_delay(
    book, customer, provider, day, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BOOKING_CREATED_MESSAGE_DELAY_SECONDS = 120
    countdowns = []
    monkeypatch.setattr(deliver, "apply_async", lambda args, countdown: countdowns.append((args, countdown)))
    monkeypatch.setattr(deliver, "delay", lambda *args: countdowns.append((args, 0)))
    with django_capture_on_commit_callbacks(execute=True):
        assert book(customer, provider, local(day, "10:00")).status_code == 201

    to_provider = set(messages_to(provider, key="booking_created").values_list("pk", flat=True))
    assert sorted(countdown for (pk,), countdown in countdowns if pk in to_provider) == [120, 120]
    assert {countdown for (pk,), countdown in countdowns if pk not in to_provider} == {0}  # the customer's
    for message in messages_to(provider, key="booking_created"):
        assert 119 <= (message.next_attempt_at - message.created_at).total_seconds() <= 121


def test_a_booking_cancelled_within_the_delay_sends_the_provider_nothing(
    api, book, customer, provider, day, django_capture_on_commit_callbacks
):
    # With a worker, the provider's delivery runs after its countdown: the callbacks run last here.
    with django_capture_on_commit_callbacks(execute=False) as later:
        booking_id = book(customer, provider, local(day, "10:00"), notes="buy my stuff").json()["id"]
    deliver_now(customer)  # the customer's own message goes at once
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel(api, customer, booking_id).status_code == 200
    for callback in later:
        callback()  # the countdown is over

    assert not messages_to(provider, status="sent").exists()
    assert not messages_to(provider, key="booking_cancelled").exists()
    assert set(messages_to(provider).values_list("status", "last_error")) == {
        ("failed", "withdrawn: the booking was cancelled first")
    }
    assert all(provider.email not in message.to for message in mail.outbox)
    # The customer, who was told of the booking, is told of its cancellation.
    assert set(messages_to(customer, status="sent").values_list("key", flat=True)) == {
        "booking_created",
        "booking_cancelled",
    }


def test_a_provider_who_heard_of_the_booking_hears_of_its_cancellation(
    api, book, customer, provider, day, django_capture_on_commit_callbacks
):
    booking_id = book(customer, provider, local(day, "10:00")).json()["id"]
    deliver_now(provider)  # the delay is over
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel(api, customer, booking_id).status_code == 200
    assert messages_to(provider, key="booking_cancelled", status="sent").count() == 2  # email, in-app


def test_delivery_drops_a_booking_made_message_whose_booking_is_cancelled_by_then(
    book, customer, provider, day
):
    """The decision at send time, from the database: a delivery claimed before the cancellation
    could withdraw it still sends nothing once the booking is cancelled."""
    booking_id = book(customer, provider, local(day, "10:00")).json()["id"]
    Booking.objects.filter(pk=booking_id).update(status="cancelled", cancelled_at=timezone.now())
    for message in messages_to(provider, key="booking_created"):
        assert notification_deliver(notification_id=message.pk) is None
        message.refresh_from_db()
        assert (message.status, message.last_error) == (
            "failed",
            "not needed: the booking was cancelled before this went out",
        )
    assert mail.outbox == []


def test_delivery_sends_a_booking_made_message_whose_booking_stands(book, customer, provider, day):
    book(customer, provider, local(day, "10:00"))
    deliver_now(provider)
    assert set(messages_to(provider).values_list("status", flat=True)) == {"sent"}
