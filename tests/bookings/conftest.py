"""Booking fixtures. Every test here touches the logs database too: booking writes are audited."""

import pytest

from apps.bookings.models import Booking
from tests.bookings import factories
from tests.conftest import grant

CUSTOMER_PERMISSIONS = ("bookings.view_booking", "bookings.add_booking", "bookings.change_booking")
PROVIDER_PERMISSIONS = (
    "bookings.view_booking",
    "bookings.change_booking",
    "bookings.confirm_booking",
    "bookings.view_workinghours",
    "bookings.change_workinghours",
    "bookings.add_workinghours",
    "bookings.delete_workinghours",
    "bookings.view_scheduleexception",
    "bookings.add_scheduleexception",
    "bookings.change_scheduleexception",
    "bookings.delete_scheduleexception",
)


@pytest.fixture
def make_provider(db):
    def make(**kwargs):
        return grant(factories.new_provider(**kwargs), *PROVIDER_PERMISSIONS)

    return make


@pytest.fixture
def make_customer(db):
    def make(**kwargs):
        return grant(factories.new_customer(**kwargs), *CUSTOMER_PERMISSIONS)

    return make


@pytest.fixture
def provider(make_provider):
    return make_provider(full_name="Pat Provider")


@pytest.fixture
def customer(make_customer):
    return make_customer(full_name="Cora Customer")


@pytest.fixture
def staff(make_user):
    """Booking staff: sees every booking, may confirm, may change."""
    return make_user(
        *CUSTOMER_PERMISSIONS, "bookings.view_all_bookings", "bookings.confirm_booking", is_staff=True
    )


@pytest.fixture
def day():
    """A day three days ahead, in London."""
    return factories.days_ahead(3)


@pytest.fixture
def book(api):
    """`book(customer, provider, start, minutes=60, **extra)`: POST bookings/ as the customer."""

    def post(customer, provider, start, minutes=60, **extra):
        body = {"provider": provider.pk, "start": start.isoformat(), "duration_minutes": minutes, **extra}
        return api(customer).post("/api/v1/bookings/", body)

    return post


@pytest.fixture
def booking(customer, provider, day, book) -> Booking:
    """A pending booking of the customer with the provider, 10:00-11:00 London, three days ahead."""
    response = book(customer, provider, factories.local(day, "10:00"))
    assert response.status_code == 201, response.content
    return Booking.objects.get(pk=response.json()["id"])
