"""GET, PUT providers/me/working-hours/: a provider's weekly schedule, replaced as a whole."""

import pytest

from apps.bookings.models import ProviderProfile, WorkingHours
from apps.logs.models import AuditLog
from tests.bookings.conftest import PROVIDER_PERMISSIONS

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/api/v1/providers/me/working-hours/"
WEEK = {
    "time_zone": "Europe/Paris",
    "intervals": [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "17:30"},
        {"weekday": 4, "start": "10:00", "end": "14:00"},
    ],
}


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["field_errors"]


def test_a_provider_reads_their_schedule(api, provider):
    body = api(provider).get(URL).json()
    assert body["time_zone"] == "Europe/London"
    assert body["intervals"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert len(body["intervals"]) == 7


def test_a_provider_replaces_their_schedule(api, provider):
    response = api(provider).put(URL, WEEK)
    assert response.status_code == 200, response.content
    assert response.json() == WEEK
    assert api(provider).get(URL).json() == WEEK
    assert ProviderProfile.objects.get(pk=provider.pk).time_zone == "Europe/Paris"
    entry = AuditLog.objects.get(action="working_hours.replace")
    assert entry.actor_id == provider.pk and "intervals" in entry.changes


def test_leaving_the_time_zone_out_keeps_it(api, provider):
    response = api(provider).put(URL, {"intervals": []})
    assert response.json() == {"time_zone": "Europe/London", "intervals": []}


def test_a_new_provider_starts_without_hours(api, make_user):
    from tests.bookings.factories import role

    newcomer = make_user(*PROVIDER_PERMISSIONS)
    newcomer.groups.add(role("provider"))
    assert api(newcomer).get(URL).json() == {"time_zone": "UTC", "intervals": []}
    assert api(newcomer).put(URL, WEEK).status_code == 200


def test_overlapping_intervals_are_refused_and_nothing_changes(api, provider):
    before = list(WorkingHours.objects.filter(provider_id=provider.pk).values_list("weekday", "start", "end"))
    body = {
        "intervals": [
            {"weekday": 2, "start": "09:00", "end": "12:00"},
            {"weekday": 2, "start": "11:00", "end": "13:00"},
        ]
    }
    assert field_errors(api(provider).put(URL, body)) == {"intervals.1": ["Overlaps Wednesday 09:00-12:00."]}
    after = list(WorkingHours.objects.filter(provider_id=provider.pk).values_list("weekday", "start", "end"))
    assert after == before


def test_touching_intervals_are_fine(api, provider):
    body = {
        "intervals": [
            {"weekday": 2, "start": "09:00", "end": "12:00"},
            {"weekday": 2, "start": "12:00", "end": "13:00"},
        ]
    }
    assert api(provider).put(URL, body).status_code == 200


@pytest.mark.parametrize(
    ("interval", "field"),
    [
        ({"weekday": 7, "start": "09:00", "end": "12:00"}, "intervals.0.weekday"),
        ({"weekday": "1", "start": "09:00", "end": "12:00"}, "intervals.0.weekday"),
        ({"weekday": 1, "start": "12:00", "end": "09:00"}, "intervals.0.end"),
        ({"weekday": 1, "start": "09:00", "end": "09:00"}, "intervals.0.end"),
        ({"weekday": 1, "start": "9am", "end": "12:00"}, "intervals.0.start"),
        ({"weekday": 1, "start": 900, "end": "12:00"}, "intervals.0.start"),
        ({"weekday": 1, "start": "09:00:30", "end": "12:00"}, "intervals.0.start"),
        ({"weekday": 1, "start": "09:00", "end": "24:00"}, "intervals.0.end"),
    ],
)
def test_bad_intervals_are_field_errors(api, provider, interval, field):
    assert field in field_errors(api(provider).put(URL, {"intervals": [interval]}))


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus", "", "europe/london", 5, "localtime", "Factory", "EST5EDT", "US/Eastern", "Etc/GMT+5"],
)
def test_an_unknown_time_zone_is_refused(api, provider, zone):
    assert "time_zone" in field_errors(api(provider).put(URL, {"time_zone": zone, "intervals": []}))


def test_too_many_intervals_are_refused(api, provider):
    intervals = [
        {"weekday": d, "start": f"{h:02d}:00", "end": f"{h:02d}:30"} for d in range(7) for h in range(11)
    ]
    assert "intervals" in field_errors(api(provider).put(URL, {"intervals": intervals}))


def test_intervals_are_required(api, provider):
    assert "intervals" in field_errors(api(provider).put(URL, {}))


def test_users_who_are_not_providers_are_403_even_with_the_permissions(api, make_user):
    somebody = make_user(*PROVIDER_PERMISSIONS)
    assert api(somebody).get(URL).status_code == 403
    assert api(somebody).put(URL, WEEK).status_code == 403
    assert not ProviderProfile.objects.filter(pk=somebody.pk).exists()


def test_providers_without_the_permission_are_403(api, make_user):
    from tests.bookings.factories import role

    somebody = make_user()
    somebody.groups.add(role("provider"))
    assert api(somebody).put(URL, WEEK).status_code == 403


def test_the_provider_role_is_enough(api, make_user):
    from io import StringIO

    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("seed_permissions", stdout=StringIO())
    somebody = make_user()
    somebody.groups.add(Group.objects.get(name="provider"))
    assert api(somebody).put(URL, WEEK).status_code == 200
    assert api(somebody).get(URL).status_code == 200


def test_anonymous_callers_are_401(api):
    assert api().get(URL).status_code == 401
