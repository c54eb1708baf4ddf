"""providers/me/schedule-exceptions/: a provider's days off, holidays and changed hours. On those
days the weekly hours do not apply, for availability and for new bookings; bookings already made
there are kept, listed in the answer and in a message to the provider."""

from datetime import timedelta

import pytest

from apps.bookings.models import Booking, ScheduleException
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from tests.bookings.factories import local, new_booking
from tests.bookings.test_transitions import deliver_queued

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/api/v1/providers/me/schedule-exceptions/"


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["field_errors"]


def slots(api, provider, day) -> list[str]:
    response = api().get(f"/api/v1/providers/{provider.pk}/availability/", {"date": day.isoformat()})
    assert response.status_code == 200, response.content
    return [slot["start"][11:16] for slot in response.json()["slots"]]


def add(api, provider, **body):
    return api(provider).post(URL, body)


class TestTakingTimeOff:
    def test_a_provider_takes_a_day_off_and_has_no_free_slots_that_day(self, api, provider, day):
        response = add(api, provider, start_date=day.isoformat(), kind="day_off", note="Dentist")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["start_date"] == body["end_date"] == day.isoformat()
        assert (body["kind"], body["intervals"], body["note"]) == ("day_off", [], "Dentist")
        assert body["conflicting_bookings"] == []
        assert slots(api, provider, day) == []
        assert slots(api, provider, day + timedelta(days=1))  # the next day is as usual

    def test_a_holiday_covers_every_day_of_its_range(self, api, provider, day):
        last = day + timedelta(days=2)
        response = add(api, provider, start_date=day.isoformat(), end_date=last.isoformat(), kind="holiday")
        assert response.status_code == 201, response.content
        for offset in range(3):
            assert slots(api, provider, day + timedelta(days=offset)) == []

    def test_changed_hours_replace_the_weekly_ones_that_day(self, api, provider, day):
        intervals = [{"start": "14:00", "end": "16:00"}]
        response = add(api, provider, start_date=day.isoformat(), kind="hours", intervals=intervals)
        assert response.status_code == 201, response.content
        assert response.json()["intervals"] == intervals
        assert slots(api, provider, day) == ["14:00", "14:15", "14:30", "14:45", "15:00"]

    def test_a_booking_on_a_day_off_is_refused(self, api, provider, customer, day, book):
        add(api, provider, start_date=day.isoformat(), kind="day_off")
        response = book(customer, provider, local(day, "10:00"))
        assert "working hours" in field_errors(response)["start"][0]

    def test_a_booking_inside_changed_hours_is_taken(self, api, provider, customer, day, book):
        add(
            api,
            provider,
            start_date=day.isoformat(),
            kind="hours",
            intervals=[{"start": "18:00", "end": "20:00"}],
        )
        assert book(customer, provider, local(day, "18:00")).status_code == 201
        assert book(customer, provider, local(day, "10:00")).status_code == 400

    def test_each_change_is_audited(self, api, provider, day):
        created = add(api, provider, start_date=day.isoformat(), kind="day_off").json()
        api(provider).patch(f"{URL}{created['id']}/", {"note": "Moving house"})
        api(provider).delete(f"{URL}{created['id']}/")
        actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
        assert actions[-3:] == [
            "schedule_exception.create",
            "schedule_exception.update",
            "schedule_exception.delete",
        ]


class TestBookingsInTheTimeOff:
    def test_they_are_kept_listed_and_the_provider_is_told(self, api, provider, day, booking):
        response = add(api, provider, start_date=day.isoformat(), kind="day_off")
        assert response.status_code == 201, response.content
        (listed,) = response.json()["conflicting_bookings"]
        assert listed["id"] == booking.pk
        assert listed["local_start"] == local(day, "10:00").isoformat()
        assert listed["status"] == "pending"
        assert Booking.objects.get(pk=booking.pk).status == "pending"  # not cancelled
        told = Notification.objects.filter(key="schedule_exception_conflicts")
        assert {n.recipient_id for n in told} == {provider.pk}
        assert told.first().context["booking_ids"] == [booking.pk]

    def test_the_message_names_the_bookings(self, api, provider, day, booking):
        add(api, provider, start_date=day.isoformat(), kind="holiday")
        deliver_queued()
        email = Notification.objects.get(key="schedule_exception_conflicts", channel="email")
        assert email.status == "sent", email.last_error
        assert "10:00" in email.body and "Cora Customer" in email.body

    def test_the_message_is_dropped_once_the_bookings_are_cancelled(self, api, provider, day, booking):
        add(api, provider, start_date=day.isoformat(), kind="day_off")
        api(provider).post(f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "Day off"})
        deliver_queued()
        statuses = set(
            Notification.objects.filter(key="schedule_exception_conflicts").values_list("status", flat=True)
        )
        assert "sent" not in statuses

    def test_bookings_inside_changed_hours_are_not_listed(self, api, provider, day, booking):
        intervals = [{"start": "09:00", "end": "12:00"}]
        response = add(api, provider, start_date=day.isoformat(), kind="hours", intervals=intervals)
        assert response.json()["conflicting_bookings"] == []
        assert not Notification.objects.filter(key="schedule_exception_conflicts").exists()

    def test_cancelled_bookings_are_not_listed(self, api, provider, customer, day):
        new_booking(customer=customer, provider=provider, start=local(day, "11:00"), status="cancelled")
        response = add(api, provider, start_date=day.isoformat(), kind="day_off")
        assert response.json()["conflicting_bookings"] == []

    def test_changing_the_exception_reports_again(self, api, provider, day, booking):
        intervals = [{"start": "09:00", "end": "12:00"}]
        created = add(api, provider, start_date=day.isoformat(), kind="hours", intervals=intervals).json()
        response = api(provider).patch(f"{URL}{created['id']}/", {"kind": "day_off"})
        assert response.status_code == 200, response.content
        assert response.json()["intervals"] == []
        assert [b["id"] for b in response.json()["conflicting_bookings"]] == [booking.pk]


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "day_off", "end_date": "PAST"}, "end_date"),
            ({"kind": "vacation"}, "kind"),
            ({"kind": "hours"}, "intervals"),
            ({"kind": "day_off", "intervals": [{"start": "09:00", "end": "12:00"}]}, "intervals"),
            ({"kind": "hours", "intervals": [{"start": "22:00", "end": "06:00"}]}, "intervals.0.end"),
            ({"kind": "hours", "intervals": [{"start": "09:00", "end": "09:00"}]}, "intervals.0.end"),
            ({"kind": "hours", "intervals": [{"start": "09:00:30", "end": "10:00"}]}, "intervals.0.start"),
            ({"kind": "hours", "intervals": [{"start": "9am", "end": "10:00"}]}, "intervals.0.start"),
            (
                {
                    "kind": "hours",
                    "intervals": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}],
                },
                "intervals.1",
            ),
            ({"kind": "day_off", "end_date": "FAR"}, "end_date"),
            ({"kind": "day_off", "note": "x" * 201}, "note"),
            ({"kind": "day_off", "provider": 1}, "provider"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, provider, day, body, field):
        body = {"start_date": day.isoformat(), **body}
        if body.get("end_date") == "PAST":
            body["end_date"] = (day - timedelta(days=1)).isoformat()
        if body.get("end_date") == "FAR":
            body["end_date"] = (day + timedelta(days=366)).isoformat()
        assert field in field_errors(api(provider).post(URL, body))
        assert not ScheduleException.objects.exists()

    def test_a_night_shift_is_explained_as_two_intervals(self, api, provider, day):
        body = {
            "start_date": day.isoformat(),
            "kind": "hours",
            "intervals": [{"start": "22:00", "end": "06:00"}],
        }
        (message,) = field_errors(api(provider).post(URL, body))["intervals.0.end"]
        assert "two intervals" in message

    def test_days_already_over_are_refused(self, api, provider, day):
        past = day - timedelta(days=10)
        errors = field_errors(add(api, provider, start_date=past.isoformat(), kind="day_off"))
        assert "over" in errors["end_date"][0]

    def test_two_exceptions_cannot_share_a_day(self, api, provider, day):
        add(
            api,
            provider,
            start_date=day.isoformat(),
            end_date=(day + timedelta(days=2)).isoformat(),
            kind="holiday",
        )
        response = add(api, provider, start_date=(day + timedelta(days=1)).isoformat(), kind="day_off")
        assert response.status_code == 409, response.content
        assert ScheduleException.objects.count() == 1

    def test_someone_elses_exception_is_404(self, api, provider, make_provider, day):
        created = add(api, provider, start_date=day.isoformat(), kind="day_off").json()
        other = make_provider()
        assert api(other).get(f"{URL}{created['id']}/").status_code == 404
        assert api(other).patch(f"{URL}{created['id']}/", {"note": "mine"}).status_code == 404
        assert api(other).delete(f"{URL}{created['id']}/").status_code == 404
        assert api(other).get(URL).json()["results"] == []

    def test_someone_not_in_the_provider_role_gets_403(self, api, make_user, day):
        from tests.bookings.conftest import PROVIDER_PERMISSIONS

        outsider = make_user(*PROVIDER_PERMISSIONS)
        assert api(outsider).get(URL).status_code == 403
        assert add(api, outsider, start_date=day.isoformat(), kind="day_off").status_code == 403


class TestListing:
    def test_soonest_first(self, api, provider, day):
        for offset in (5, 1, 3):
            add(api, provider, start_date=(day + timedelta(days=offset)).isoformat(), kind="day_off")
        listed = [row["start_date"] for row in api(provider).get(URL).json()["results"]]
        assert listed == sorted(listed) and len(listed) == 3

    @pytest.mark.parametrize("page_size", [2, 20])
    def test_a_page_is_a_fixed_number_of_queries(
        self, api, provider, day, django_assert_max_num_queries, page_size
    ):
        for offset in range(12):
            add(api, provider, start_date=(day + timedelta(days=offset)).isoformat(), kind="day_off")
        client = api(provider)
        with django_assert_max_num_queries(4):  # the user, the role, the count, the page
            response = client.get(URL, {"page_size": page_size})
        assert len(response.json()["results"]) == min(page_size, 12)
