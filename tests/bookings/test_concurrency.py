"""Many requests for one slot at once: exactly one wins, on PostgreSQL's exclusion constraint (the
service's overlap query alone could let two through)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.bookings.models import Booking
from tests.bookings.factories import local

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL"),
    pytest.mark.django_db(databases="__all__", transaction=True),
]
CALLERS = 20


def race(requests: list[dict], customers) -> list[int]:
    """POST every body at once, each as its own customer; the statuses, in order."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)

    def run(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(customers[index])}")
        try:
            barrier.wait(timeout=30)
            statuses[index] = client.post("/api/v1/bookings/", requests[index], format="json").status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.fixture(autouse=True)
def _messages_queued_not_sent(monkeypatch):
    # Eager Celery's apply() sets and restores a process-wide flag (task_join_will_block) around
    # each task; twenty threads doing that at once can leave it set, and every later .get() in
    # this process then fails. The messages' rows are still written: only their delivery, which
    # this test is not about, is skipped.
    monkeypatch.setattr(
        "apps.notifications.services._queue_delivery", lambda notification_id, **options: None
    )


@pytest.fixture
def customers(make_customer):
    return [make_customer() for _ in range(CALLERS)]


def body(provider, start, minutes=60) -> dict:
    return {"provider": provider.pk, "start": start.isoformat(), "duration_minutes": minutes}


def test_twenty_requests_for_one_slot_give_one_booking(provider, customers, day):
    statuses = race([body(provider, local(day, "10:00"))] * CALLERS, customers)
    assert sorted(statuses) == [201] + [409] * (CALLERS - 1)
    assert Booking.objects.filter(provider=provider).count() == 1


def test_partly_overlapping_windows_give_one_booking(provider, customers, day):
    # 10:00-11:00, 10:15-11:15, ... every window overlaps every other one.
    starts = [local(day, "10:00") + timedelta(minutes=15 * (n % 4)) for n in range(CALLERS)]
    statuses = race([body(provider, start) for start in starts], customers)
    assert sorted(statuses) == [201] + [409] * (CALLERS - 1)
    assert Booking.objects.filter(provider=provider).count() == 1


def test_back_to_back_bookings_all_succeed(provider, customers, day):
    # 09:00-09:30, 09:30-10:00, ...: touching, never overlapping.
    starts = [local(day, "09:00") + timedelta(minutes=30 * n) for n in range(12)]
    statuses = race([body(provider, start, 30) for start in starts], customers[:12])
    assert statuses == [201] * 12
    assert Booking.objects.filter(provider=provider).count() == 12


def test_one_customer_racing_two_providers_gets_one_booking(make_provider, customer, day):
    providers = [make_provider() for _ in range(10)]
    statuses = race([body(p, local(day, "10:00")) for p in providers], [customer] * 10)
    assert sorted(statuses) == [201] + [409] * 9
