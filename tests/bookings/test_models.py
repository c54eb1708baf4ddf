"""What the database itself refuses, whoever writes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.bookings.models import (
    Booking,
    ProviderProfile,
    WorkingHours,
    _zone_tab_names,
    time_zone_names,
    validate_time_zone,
)
from tests.bookings.factories import new_booking, new_customer, new_provider

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def pair():
    return new_customer(), new_provider()


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(**fields)


def test_end_after_start(pair):
    customer, provider = pair
    now = timezone.now()
    refused(customer=customer, provider=provider, start=now, end=now)


def test_nobody_books_themselves(pair):
    _customer, provider = pair
    now = timezone.now()
    refused(customer=provider, provider=provider, start=now, end=now + timedelta(hours=1))


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "cancelled"},
        {"status": "pending", "cancelled_at": timezone.now()},
        {"status": "confirmed", "cancellation_reason": "why"},
        {"status": "maybe"},
        {"notes": "x" * 1001},
        {"price": -1},
    ],
)
def test_inconsistent_rows_are_refused(pair, fields):
    customer, provider = pair
    now = timezone.now()
    refused(customer=customer, provider=provider, start=now, end=now + timedelta(hours=1), **fields)


def test_working_hours_start_before_end(pair):
    from datetime import time

    _customer, provider = pair
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingHours.objects.create(provider_id=provider.pk, weekday=1, start=time(12), end=time(9))


@pytest.mark.parametrize(
    "name", ["Europe/London", "America/New_York", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "UTC"]
)
def test_canonical_iana_names_are_time_zones(name):
    validate_time_zone(name)


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "localtime",  # whatever the server is set to
        "posixrules",
        "Factory",
        "EST5EDT",  # POSIX rules, not a place
        "EST",
        "Etc/GMT+5",  # five hours behind UTC, despite the plus
        "GMT",
        "US/Eastern",  # the old country folders
        "Canada/Pacific",
        "europe/london",
        "",
    ],
)
def test_names_that_are_not_canonical_iana_zones_are_refused(name):
    with pytest.raises(ValidationError, match="canonical IANA"):
        validate_time_zone(name)


@pytest.mark.skipif(not _zone_tab_names(), reason="this time zone database ships no zone.tab")
@pytest.mark.parametrize("name", ["Asia/Calcutta", "Europe/Kiev", "Australia/NSW", "America/Buenos_Aires"])
def test_old_aliases_of_a_zone_are_refused_for_its_current_name(name):
    with pytest.raises(ValidationError):
        validate_time_zone(name)


def test_every_name_offered_loads():
    from zoneinfo import ZoneInfo

    for name in time_zone_names():
        ZoneInfo(name)


def test_a_profile_shares_the_users_id(pair):
    _customer, provider = pair
    assert ProviderProfile.objects.get(user=provider).pk == provider.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
class TestExclusionConstraints:
    def test_overlapping_active_bookings_of_one_provider_are_impossible(self, pair):
        customer, provider = pair
        start = timezone.now() + timedelta(days=2)
        new_booking(customer=customer, provider=provider, start=start)
        with (
            pytest.raises(IntegrityError, match="bookings_booking_provider_no_overlap"),
            transaction.atomic(),
        ):
            new_booking(customer=new_customer(), provider=provider, start=start + timedelta(minutes=30))

    def test_and_of_one_customer(self, pair):
        customer, provider = pair
        start = timezone.now() + timedelta(days=2)
        new_booking(customer=customer, provider=provider, start=start)
        with (
            pytest.raises(IntegrityError, match="bookings_booking_customer_no_overlap"),
            transaction.atomic(),
        ):
            new_booking(customer=customer, provider=new_provider(), start=start + timedelta(minutes=30))

    def test_touching_and_inactive_bookings_are_fine(self, pair):
        customer, provider = pair
        start = timezone.now() + timedelta(days=2)
        new_booking(customer=customer, provider=provider, start=start)
        new_booking(customer=customer, provider=provider, start=start + timedelta(hours=1))
        new_booking(customer=customer, provider=provider, start=start, status="cancelled")

    def test_overlapping_working_hours_are_impossible(self, pair):
        from datetime import time

        _customer, provider = pair  # every day 09:00-17:00
        with pytest.raises(IntegrityError, match="bookings_hours_no_overlap"), transaction.atomic():
            WorkingHours.objects.create(provider_id=provider.pk, weekday=1, start=time(16), end=time(18))
        WorkingHours.objects.create(provider_id=provider.pk, weekday=1, start=time(17), end=time(18))


class TestScheduleExceptionConstraints:
    def test_the_last_day_is_not_before_the_first(self, pair):
        from datetime import date

        from apps.bookings.models import ScheduleException

        _customer, provider = pair
        with pytest.raises(IntegrityError), transaction.atomic():
            ScheduleException.objects.create(
                provider_id=provider.pk,
                start_date=date(2030, 1, 2),
                end_date=date(2030, 1, 1),
                kind="day_off",
            )

    def test_two_exceptions_of_a_provider_never_start_on_one_day(self, pair):
        from datetime import date

        from apps.bookings.models import ScheduleException

        _customer, provider = pair
        day = date(2030, 1, 2)
        ScheduleException.objects.create(
            provider_id=provider.pk, start_date=day, end_date=day, kind="day_off"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            ScheduleException.objects.create(
                provider_id=provider.pk, start_date=day, end_date=day, kind="holiday"
            )

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
    def test_nor_cover_one_day_on_postgresql(self, pair):
        from datetime import date

        from apps.bookings.models import ScheduleException

        _customer, provider = pair
        ScheduleException.objects.create(
            provider_id=provider.pk, start_date=date(2030, 1, 1), end_date=date(2030, 1, 3), kind="holiday"
        )
        with pytest.raises(IntegrityError, match="bookings_exception_no_overlap"), transaction.atomic():
            ScheduleException.objects.create(
                provider_id=provider.pk,
                start_date=date(2030, 1, 3),
                end_date=date(2030, 1, 3),
                kind="day_off",
            )
        ScheduleException.objects.create(  # the next day is free
            provider_id=provider.pk, start_date=date(2030, 1, 4), end_date=date(2030, 1, 4), kind="day_off"
        )
