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
