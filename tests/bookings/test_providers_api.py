"""GET providers/ and providers/{id}/availability/: public reads; free slots in the provider's zone,
around active bookings, right across daylight saving changes, in a fixed number of queries."""

from datetime import timedelta

import pytest

from tests.bookings.factories import local, new_booking, new_user, next_last_sunday
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")

PROVIDERS = "/api/v1/providers/"


def availability(api, provider, **query):
    return api().get(f"{PROVIDERS}{provider.pk}/availability/", query)


def starts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [slot["start"] for slot in response.json()["slots"]]


class TestProviderList:
    def test_anyone_sees_providers_with_their_active_services(self, api, make_provider):
        haircut, shave, retired = new_product(name="Haircut"), new_product(name="Shave"), new_product()
        from apps.products.services import product_update

        product_update(product=retired, data={"is_active": False}, actor=None)
        provider = make_provider(products=[shave, haircut, retired], full_name="Pat")
        new_user()  # not a provider
        response = api().get(PROVIDERS)
        assert response.status_code == 200
        assert response.json()["results"] == [
            {
                "id": provider.pk,
                "name": "Pat",
                "time_zone": "Europe/London",
                "services": [
                    {"id": haircut.pk, "name": "Haircut", "price": "10.00"},
                    {"id": shave.pk, "name": "Shave", "price": "10.00"},
                ],
            }
        ]
        assert api().get(f"{PROVIDERS}{provider.pk}/").json()["id"] == provider.pk

    def test_filter_by_service(self, api, make_provider):
        haircut = new_product()
        barber = make_provider(products=[haircut])
        make_provider(products=[new_product()])
        assert [row["id"] for row in api().get(PROVIDERS, {"service": haircut.pk}).json()["results"]] == [
            barber.pk
        ]
        assert api().get(PROVIDERS, {"service": "x"}).status_code == 400

    def test_inactive_providers_and_plain_users_are_not_listed(self, api, make_provider, make_user):
        gone = make_provider(is_active=False)
        assert api().get(PROVIDERS).json()["count"] == 0
        assert api().get(f"{PROVIDERS}{gone.pk}/").status_code == 404
        assert api().get(f"{PROVIDERS}{make_user().pk}/").status_code == 404

    @pytest.mark.parametrize("page_size", [2, 20])
    def test_a_list_is_a_fixed_number_of_queries(
        self, api, make_provider, django_assert_max_num_queries, page_size
    ):
        for _ in range(25):
            make_provider(products=[new_product(), new_product()])
        with django_assert_max_num_queries(3):  # count, page, services
            response = api().get(PROVIDERS, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size


class TestAvailability:
    def test_the_slots_of_a_working_day(self, api, make_provider, day):
        provider = make_provider(hours=[(day.weekday(), "09:00", "12:00")])
        response = availability(api, provider, date=day.isoformat(), duration=60)
        body = response.json()
        assert (body["provider"], body["date"], body["time_zone"], body["duration_minutes"]) == (
            provider.pk,
            day.isoformat(),
            "Europe/London",
            60,
        )
        assert starts(response) == [
            local(day, clock).isoformat()
            for clock in ("09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00")
        ]
        assert body["slots"][0]["end"] == local(day, "10:00").isoformat()

    def test_slots_avoid_active_bookings_only(self, api, make_provider, make_customer, day):
        provider = make_provider(hours=[(day.weekday(), "09:00", "12:00")])
        new_booking(customer=make_customer(), provider=provider, start=local(day, "10:00"), minutes=30)
        new_booking(
            customer=make_customer(), provider=provider, start=local(day, "11:00"), status="cancelled"
        )
        assert starts(availability(api, provider, date=day.isoformat(), duration=30)) == [
            local(day, clock).isoformat()
            for clock in ("09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30")
        ]

    def test_a_booking_that_spans_midnight_of_the_previous_day_blocks_the_morning(
        self, api, make_provider, make_customer, day
    ):
        provider = make_provider(
            hours=[((day.weekday() - 1) % 7, "20:00", "23:59"), (day.weekday(), "00:00", "04:00")]
        )
        new_booking(
            customer=make_customer(),
            provider=provider,
            start=local(day, "00:00") - timedelta(hours=1),
            minutes=180,
        )
        assert (
            starts(availability(api, provider, date=day.isoformat(), duration=60))[0]
            == local(day, "02:00").isoformat()
        )

    def test_several_intervals_a_day(self, api, make_provider, day):
        provider = make_provider(hours=[(day.weekday(), "09:00", "10:00"), (day.weekday(), "14:00", "15:00")])
        assert starts(availability(api, provider, date=day.isoformat(), duration=60)) == [
            local(day, "09:00").isoformat(),
            local(day, "14:00").isoformat(),
        ]

    def test_a_day_off_has_no_slots(self, api, make_provider, day):
        provider = make_provider(hours=[((day.weekday() + 1) % 7, "09:00", "17:00")])
        assert starts(availability(api, provider, date=day.isoformat())) == []

    def test_past_days_have_no_slots(self, api, provider):
        assert starts(availability(api, provider, date="2001-01-01")) == []

    def test_slots_are_on_the_providers_clock(self, api, make_provider, day):
        provider = make_provider(time_zone="America/New_York", hours=[(day.weekday(), "09:00", "10:00")])
        response = availability(api, provider, date=day.isoformat(), duration=60)
        assert starts(response) == [local(day, "09:00", "America/New_York").isoformat()]
        assert response.json()["slots"][0]["start"].endswith(("-05:00", "-04:00"))

    def test_spring_forward_in_london(self, api, make_provider, settings):
        sunday = next_last_sunday(3)
        settings.BOOKING_MAX_DAYS_AHEAD = 800
        provider = make_provider(hours=[(6, "00:00", "04:00")])
        slots = starts(availability(api, provider, date=sunday.isoformat(), duration=60))
        # 01:00-02:00 does not exist that night: 00:00-04:00 is three real hours, every start 15 real
        # minutes after the one before, those after the change in summer time.
        assert slots == [
            *(f"{sunday}T00:{minute}:00+00:00" for minute in ("00", "15", "30", "45")),
            *(f"{sunday}T02:{minute}:00+01:00" for minute in ("00", "15", "30", "45")),
            f"{sunday}T03:00:00+01:00",
        ]

    def test_fall_back_in_london(self, api, make_provider, settings):
        sunday = next_last_sunday(10)
        settings.BOOKING_MAX_DAYS_AHEAD = 800
        provider = make_provider(hours=[(6, "00:00", "03:00")])
        slots = starts(availability(api, provider, date=sunday.isoformat(), duration=60))
        # 01:00-02:00 happens twice: four real hours, 01:xx once in summer time and once in winter time.
        assert slots == [
            *(
                f"{sunday}T{hour}:{minute}:00+01:00"
                for hour in ("00", "01")
                for minute in ("00", "15", "30", "45")
            ),
            *(f"{sunday}T01:{minute}:00+00:00" for minute in ("00", "15", "30", "45")),
            f"{sunday}T02:00:00+00:00",
        ]

    def test_a_slot_offered_across_a_clock_change_can_be_booked(
        self, api, book, make_provider, customer, settings
    ):
        sunday = next_last_sunday(3)
        settings.BOOKING_MAX_DAYS_AHEAD = 800
        provider = make_provider(hours=[(6, "00:00", "04:00")])
        for slot in availability(api, provider, date=sunday.isoformat(), duration=90).json()["slots"]:
            from datetime import datetime

            response = book(customer, provider, datetime.fromisoformat(slot["start"]), 90)
            assert response.status_code == 201, (slot, response.content)
            break

    def test_slots_sooner_than_the_lead_time_are_left_out(self, api, make_provider, settings):
        from datetime import UTC, datetime, time

        from django.utils import timezone

        # The lead time ends just after noon, two days from now, whatever the time of day the
        # test runs at: that day keeps its afternoon and loses its morning, the days before it
        # lose everything.
        now = timezone.now()
        in_two_days = now.date() + timedelta(days=2)
        noon = datetime.combine(in_two_days, time(12), tzinfo=UTC)
        settings.BOOKING_LEAD_MINUTES = int((noon - now).total_seconds() // 60) + 1
        provider = make_provider(time_zone="UTC", hours=[(d, "00:00", "23:59") for d in range(7)])
        slots = starts(availability(api, provider, date=in_two_days.isoformat()))
        assert slots and slots[0].startswith(f"{in_two_days.isoformat()}T12:")
        assert all(start >= f"{in_two_days.isoformat()}T12:00" for start in slots)
        for day in (now.date(), now.date() + timedelta(days=1)):
            assert starts(availability(api, provider, date=day.isoformat())) == []

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"date": "tomorrow"},
            {"date": "2030-02-30"},
            {"date": "2030-1-1"},
            {"date": "2030-01-01", "duration": "abc"},
            {"date": "2030-01-01", "duration": "20"},
            {"date": "2030-01-01", "duration": "10"},
            {"date": "2030-01-01", "duration": "600"},
            {"date": "2030-01-01", "duration": "60.0"},
            {"date": "9999-12-31"},
        ],
    )
    def test_bad_parameters_are_400(self, api, provider, query):
        response = availability(api, provider, **query)
        assert response.status_code == 400, response.content
        assert set(response.json()["field_errors"]) <= {"date", "duration"}

    def test_a_parameter_given_twice_is_400(self, api, provider, day):
        response = api().get(f"{PROVIDERS}{provider.pk}/availability/?date={day}&date={day}")
        assert response.status_code == 400

    def test_unknown_providers_are_404(self, api, make_user, day):
        assert availability(api, make_user(), date=day.isoformat()).status_code == 404
        assert api().get(f"{PROVIDERS}999999/availability/", {"date": day.isoformat()}).status_code == 404

    def test_a_busy_day_is_a_fixed_number_of_queries(
        self, api, make_provider, make_customer, day, django_assert_max_num_queries
    ):
        provider = make_provider(hours=[(day.weekday(), "06:00", "12:00"), (day.weekday(), "12:00", "22:00")])
        for hour in range(6, 22, 2):
            new_booking(
                customer=make_customer(), provider=provider, start=local(day, f"{hour:02d}:00"), minutes=45
            )
        with django_assert_max_num_queries(3):  # provider and profile, working hours, bookings
            response = availability(api, provider, date=day.isoformat(), duration=60)
        assert len(response.json()["slots"]) > 10
