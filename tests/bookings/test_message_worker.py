"""With a real Celery worker: the provider's delayed "booking made" message waits its countdown in
the broker, and a cancellation inside it means the provider is sent nothing."""

import os
import time

import pytest
from django.db import connections

from apps.bookings import services
from apps.notifications.models import Notification
from apps.notifications.services import notify
from tests.bookings import factories
from tests.celery_worker import celery_worker, routed_to
from tests.notifications.test_worker import _url

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL") or connections["default"].vendor != "postgresql",
        reason="needs CELERY_BROKER_URL and PostgreSQL: the worker must see this test's committed rows",
    ),
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def wait_until_sent(notification: Notification) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.status == Notification.Status.SENT:
            return
        time.sleep(0.2)


def test_a_booking_cancelled_within_the_countdown_sends_the_provider_nothing(settings):
    settings.BOOKING_CREATED_MESSAGE_DELAY_SECONDS = 5
    databases = {
        "DATABASE_URL": _url("default"),
        "ANALYTICS_DATABASE_URL": _url("analytics"),
        "LOGS_DATABASE_URL": _url("logs"),
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    provider = factories.new_provider(email="provider-worker@example.com")
    customer = factories.new_customer(email="customer-worker@example.com")
    start = factories.local(factories.days_ahead(3), "10:00")
    with celery_worker(env=databases) as worker, routed_to(worker, "notifications.deliver"):
        booking = services.booking_create(
            customer=customer, provider_id=provider.pk, start=start, duration_minutes=60
        )
        services.booking_cancel(booking=booking, actor=customer, reason="changed my mind")
        # Due a second after the provider's: once it is sent, the worker has run theirs.
        (marker,) = notify(user=customer, key="welcome", channels=["email"], delay_seconds=6)
        wait_until_sent(marker)
    assert marker.status == Notification.Status.SENT, marker.last_error
    to_provider = Notification.objects.filter(recipient=provider)
    assert set(to_provider.values_list("key", "status", "attempts")) == {("booking_created", "failed", 0)}
    assert "To: provider-worker@example.com" not in worker.output
    assert "To: customer-worker@example.com" in worker.output  # its booking-made, then the cancellation
    assert (marker.sent_at - marker.created_at).total_seconds() >= 6  # the countdown was kept
