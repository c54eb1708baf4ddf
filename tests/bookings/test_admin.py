"""The bookings admin: filters, and confirm and cancel actions that go through the services; working
hours edited on the provider's profile, saved as a whole by the same service as the API."""

from datetime import time

import pytest

from apps.bookings.models import Booking, WorkingHours
from apps.logs.models import AuditLog
from tests.bookings.factories import local, new_booking

pytestmark = pytest.mark.django_db(databases="__all__")

CHANGELIST = "/admin/bookings/booking/"


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_the_list_filters_by_provider_status_and_date(admin_client, booking, provider):
    assert admin_client.get(CHANGELIST).status_code == 200
    for query in (
        {"status__exact": "pending"},
        {"provider__id__exact": provider.pk},
        {"start__year": booking.start.year},
    ):
        response = admin_client.get(CHANGELIST, query)
        assert response.status_code == 200
        assert str(booking.pk) in response.content.decode()
    assert admin_client.get(f"{CHANGELIST}{booking.pk}/change/").status_code == 200


def test_bookings_cannot_be_added_or_deleted_here(admin_client, booking):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{booking.pk}/delete/").status_code == 403


def test_confirm_and_cancel_actions_use_the_services(admin_client, booking, customer, provider, day):
    other = new_booking(customer=customer, provider=provider, start=local(day, "14:00"))
    admin_client.post(CHANGELIST, {"action": "confirm_selected", "_selected_action": [booking.pk]})
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert AuditLog.objects.filter(action="booking.confirm").exists()
    admin_client.post(CHANGELIST, {"action": "cancel_selected", "_selected_action": [booking.pk, other.pk]})
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert AuditLog.objects.filter(action="booking.cancel").count() == 2
    # Cancelling again is refused by the service, shown as a message, and changes nothing.
    response = admin_client.post(
        CHANGELIST, {"action": "cancel_selected", "_selected_action": [booking.pk]}, follow=True
    )
    assert "can be cancelled" in response.content.decode()


def _inline(rows, *, existing=0) -> dict:
    data = {
        "working_hours-TOTAL_FORMS": str(len(rows)),
        "working_hours-INITIAL_FORMS": str(existing),
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
    }
    for n, (weekday, start, end) in enumerate(rows):
        data |= {
            f"working_hours-{n}-weekday": str(weekday),
            f"working_hours-{n}-start": start,
            f"working_hours-{n}-end": end,
        }
    return data


def test_working_hours_are_edited_on_the_profile(admin_client, make_provider):
    provider = make_provider(hours=[])
    url = f"/admin/bookings/providerprofile/{provider.pk}/change/"
    assert admin_client.get(url).status_code == 200
    data = {"time_zone": "Europe/Paris", **_inline([(0, "09:00", "12:00"), (0, "13:00", "17:00")])}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(
        WorkingHours.objects.filter(provider_id=provider.pk).values_list("weekday", "start", "end")
    ) == [
        (0, time(9), time(12)),
        (0, time(13), time(17)),
    ]
    assert AuditLog.objects.filter(action="working_hours.replace").exists()


def test_overlapping_working_hours_are_a_form_error(admin_client, make_provider):
    provider = make_provider(hours=[])
    url = f"/admin/bookings/providerprofile/{provider.pk}/change/"
    data = {"time_zone": "Europe/London", **_inline([(0, "09:00", "12:00"), (0, "11:00", "17:00")])}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Overlaps Monday 09:00-12:00." in response.content.decode()
    assert not WorkingHours.objects.filter(provider_id=provider.pk).exists()


def _exceptions_inline(rows, *, existing=()) -> dict:
    """The schedule-exception section of the profile form: `existing` rows first (with their ids)."""
    prefix = "schedule_exceptions"
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(existing)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        data |= {f"{prefix}-{n}-{name}": value for name, value in row.items()}
        if n < len(existing):
            data[f"{prefix}-{n}-id"] = str(existing[n])
    return data


def test_staff_add_a_providers_day_off_on_the_profile_and_see_the_bookings_it_leaves(
    admin_client, booking, provider, day
):
    from apps.bookings.models import ScheduleException

    url = f"/admin/bookings/providerprofile/{provider.pk}/change/"
    row = {"start_date": day.isoformat(), "end_date": "", "kind": "day_off", "hours": "", "note": "Sick"}
    data = {"time_zone": "Europe/London", **_inline([]), **_exceptions_inline([row])}
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    exception = ScheduleException.objects.get(provider_id=provider.pk)
    assert (exception.start_date, exception.end_date, exception.note) == (day, day, "Sick")
    assert f"#{booking.pk}" in response.content.decode()  # the warning lists the booking it kept
    assert Booking.objects.get(pk=booking.pk).status == "pending"
    assert AuditLog.objects.filter(action="schedule_exception.create").exists()


def test_changed_hours_are_typed_as_text_and_refusals_are_messages(admin_client, make_provider, day):
    from apps.bookings.models import ScheduleException

    provider = make_provider(hours=[])
    url = f"/admin/bookings/providerprofile/{provider.pk}/change/"
    row = {"start_date": day.isoformat(), "end_date": "", "kind": "hours", "hours": "13:00-15:00, 9:00-12:00"}
    admin_client.post(url, {"time_zone": "Europe/London", **_inline([]), **_exceptions_inline([row])})
    exception = ScheduleException.objects.get(provider_id=provider.pk)
    assert exception.intervals == [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "15:00"}]
    assert "09:00-12:00, 13:00-15:00" in admin_client.get(url).content.decode()

    unreadable = {**row, "hours": "nine to five"}
    response = admin_client.post(
        url,
        {
            "time_zone": "Europe/London",
            **_inline([]),
            **_exceptions_inline([unreadable], existing=[exception.pk]),
        },
    )
    assert "Cannot read nine to five" in response.content.decode()
    night = {**row, "hours": "22:00-06:00"}
    response = admin_client.post(
        url,
        {"time_zone": "Europe/London", **_inline([]), **_exceptions_inline([night], existing=[exception.pk])},
        follow=True,
    )
    assert "two intervals" in response.content.decode()
    assert ScheduleException.objects.get(pk=exception.pk).intervals[0]["start"] == "09:00"  # unchanged
