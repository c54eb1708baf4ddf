"""GET availability/ and availability/next/: public reads of the free slots of every provider who
offers a service, by start then provider, under the same rules as one provider's availability and
a booking, in a fixed number of queries however many providers there are."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.bookings.factories import days_ahead, local, new_booking, new_customer, new_user
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")

SEARCH = "/api/v1/availability/"
NEXT = "/api/v1/availability/next/"


def search(api, service, **query):
    return api().get(SEARCH, {"service": service.pk, **query})


def rows(response) -> list[tuple[int, str]]:
    assert response.status_code == 200, response.content
    return [(row["provider"]["id"], row["start"]) for row in response.json()["results"]]


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["field_errors"]


@pytest.fixture
def haircut():
    return new_product(name="Haircut")


class TestSearch:
    def test_the_slots_of_every_provider_of_the_service_by_start_then_provider(
        self, api, make_provider, haircut, day
    ):
        weekday = day.weekday()
        early = make_provider(products=[haircut], hours=[(weekday, "09:00", "10:00")], full_name="Ann")
        late = make_provider(products=[haircut], hours=[(weekday, "09:30", "10:30")], full_name="Bo")
        make_provider(products=[new_product()], hours=[(weekday, "09:00", "17:00")])  # another service
        make_provider(products=[haircut], is_active=False)
        body = search(api, haircut, duration=30, **{"from": day.isoformat(), "to": day.isoformat()}).json()
        assert (body["next"], body["previous"]) == (None, None)
        assert [(r["provider"]["id"], r["start"]) for r in body["results"]] == [
            (early.pk, local(day, "09:00").isoformat()),
            (early.pk, local(day, "09:15").isoformat()),
            (early.pk, local(day, "09:30").isoformat()),
            (late.pk, local(day, "09:30").isoformat()),
            (late.pk, local(day, "09:45").isoformat()),
            (late.pk, local(day, "10:00").isoformat()),
        ]
        assert body["results"][0] == {
            "provider": {"id": early.pk, "name": "Ann"},
            "time_zone": "Europe/London",
            "start": local(day, "09:00").isoformat(),
            "end": local(day, "09:30").isoformat(),
        }

    def test_it_agrees_with_each_providers_own_availability(self, api, make_provider, haircut, day):
        weekday = day.weekday()
        providers = [
            make_provider(
                products=[haircut], hours=[(weekday, "09:00", "12:00"), (weekday, "13:00", "15:00")]
            ),
            make_provider(products=[haircut], time_zone="Asia/Tokyo", hours=[(weekday, "08:00", "11:00")]),
        ]
        new_booking(customer=new_customer(), provider=providers[0], start=local(day, "10:00"), minutes=45)
        found = rows(search(api, haircut, duration=30, page_size=100, **{"from": day, "to": day}))
        for provider in providers:
            own = api().get(f"/api/v1/providers/{provider.pk}/availability/", {"date": day, "duration": 30})
            assert [start for pk, start in found if pk == provider.pk] == [
                slot["start"] for slot in own.json()["slots"]
            ]
        instants = [datetime.fromisoformat(start) for _pk, start in found]
        assert instants == sorted(instants)

    def test_active_bookings_take_their_time_and_others_do_not(
        self, api, make_provider, make_customer, haircut, day
    ):
        provider = make_provider(products=[haircut], hours=[(day.weekday(), "09:00", "11:00")])
        new_booking(customer=make_customer(), provider=provider, start=local(day, "09:00"), minutes=60)
        new_booking(
            customer=make_customer(), provider=provider, start=local(day, "10:00"), status="cancelled"
        )
        assert [start for _pk, start in rows(search(api, haircut, **{"from": day, "to": day}))] == [
            local(day, "10:00").isoformat()
        ]

    def test_a_date_is_a_day_in_each_providers_own_zone(self, api, make_provider, haircut, day):
        weekday = day.weekday()
        london = make_provider(products=[haircut], hours=[(weekday, "00:00", "01:00")])
        tokyo = make_provider(products=[haircut], time_zone="Asia/Tokyo", hours=[(weekday, "00:00", "01:00")])
        assert rows(search(api, haircut, **{"from": day, "to": day})) == [
            (tokyo.pk, local(day, "00:00", "Asia/Tokyo").isoformat()),
            (london.pk, local(day, "00:00").isoformat()),
        ]

    def test_times_bound_the_starts_as_instants(self, api, make_provider, haircut, day):
        provider = make_provider(products=[haircut], hours=[(day.weekday(), "09:00", "12:00")])
        query = {"from": local(day, "09:30").isoformat(), "to": local(day, "10:15").isoformat()}
        # The `to` time itself is not a start: starts before it.
        assert rows(search(api, haircut, **query)) == [
            (provider.pk, local(day, clock).isoformat()) for clock in ("09:30", "09:45", "10:00")
        ]

    def test_an_unescaped_plus_in_the_offset_still_reads(self, api, make_provider, haircut, day):
        make_provider(products=[haircut], hours=[(day.weekday(), "09:00", "12:00")])
        start = local(day, "09:00").astimezone(UTC).replace(tzinfo=None).isoformat()
        url = f"{SEARCH}?service={haircut.pk}&from={start}+00:00&to={day}"
        assert len(api().get(url).json()["results"]) == 9

    def test_nothing_after_the_booking_horizon(self, api, make_provider, haircut, settings):
        settings.BOOKING_MAX_DAYS_AHEAD = 10
        make_provider(products=[haircut], time_zone="UTC", hours=[(d, "00:00", "23:59") for d in range(7)])
        last_day = days_ahead(10, "UTC")
        starts = [start for _pk, start in rows(search(api, haircut, **{"from": last_day, "to": last_day}))]
        horizon = datetime.now(UTC) + timedelta(days=10)
        assert starts and all(datetime.fromisoformat(start) <= horizon for start in starts)

    def test_a_day_off_has_no_slots_and_changed_hours_replace_the_weekly_ones(
        self, api, make_provider, haircut, day
    ):
        from datetime import time

        from apps.bookings.models import ScheduleException

        weekday = day.weekday()
        away = make_provider(products=[haircut], hours=[(weekday, "09:00", "10:00")])
        changed = make_provider(products=[haircut], hours=[(weekday, "09:00", "10:00")])
        weekend_only = make_provider(products=[haircut], hours=[])  # no weekly hours at all
        ScheduleException.objects.create(
            provider=away.provider_profile, start_date=day, end_date=day, kind="day_off"
        )
        for provider in (changed, weekend_only):
            ScheduleException.objects.create(
                provider=provider.provider_profile,
                start_date=day,
                end_date=day,
                kind="hours",
                intervals=[
                    {"start": time(14, 0).isoformat("minutes"), "end": time(14, 30).isoformat("minutes")}
                ],
            )
        assert rows(search(api, haircut, duration=30, **{"from": day, "to": day})) == [
            (changed.pk, local(day, "14:00").isoformat()),
            (weekend_only.pk, local(day, "14:00").isoformat()),
        ]
        # The first free slot of each agrees: the one without weekly hours is found too.
        first = {
            row["provider"]["id"]: row["slot"]
            for row in api().get(NEXT, {"service": haircut.pk, "duration": 30}).json()["results"]
        }
        assert first[weekend_only.pk] is not None

    def test_anyone_may_search_even_with_a_broken_token(self, api, make_provider, haircut, day):
        make_provider(products=[haircut], hours=[(day.weekday(), "09:00", "10:00")])
        client = api()
        client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        response = client.get(SEARCH, {"service": haircut.pk, "from": day, "to": day})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 1

    def test_a_page_past_the_first_days_reads_the_rest_of_the_bookings_and_agrees_day_by_day(
        self, api, make_provider, make_customer, haircut, day, django_assert_max_num_queries
    ):
        every_day = [(d, "09:00", "10:00") for d in range(7)]
        providers = [make_provider(products=[haircut], hours=every_day) for _ in range(2)]
        later = day + timedelta(days=4)  # past the first read
        new_booking(customer=make_customer(), provider=providers[0], start=local(later, "09:00"), minutes=30)
        new_booking(customer=make_customer(), provider=providers[1], start=local(day, "09:30"), minutes=30)
        week = {"from": day, "to": day + timedelta(days=6)}
        # the service, the providers, their hours, their exceptions, the first days' bookings, the rest
        with django_assert_max_num_queries(6):
            found = rows(search(api, haircut, duration=30, page_size=100, **week))
        for provider in providers:
            own = [
                slot["start"]
                for n in range(7)
                for slot in api()
                .get(
                    f"/api/v1/providers/{provider.pk}/availability/",
                    {"date": day + timedelta(days=n), "duration": 30},
                )
                .json()["slots"]
            ]
            assert [start for pk, start in found if pk == provider.pk] == own
        assert local(later, "09:00").isoformat() not in [s for pk, s in found if pk == providers[0].pk]

    @pytest.mark.parametrize("page_size", [2, 50])
    def test_the_same_few_queries_for_any_number_of_providers_and_page_size(
        self, api, make_provider, make_customer, haircut, django_assert_max_num_queries, page_size
    ):
        day = days_ahead(3)
        for _ in range(12):
            provider = make_provider(products=[haircut], hours=[(d, "09:00", "17:00") for d in range(7)])
            new_booking(customer=make_customer(), provider=provider, start=local(day, "10:00"))
        # the service, the providers with their profiles, their hours, their exceptions, and their
        # bookings (of the first days; the rest only if a page reaches past them)
        with django_assert_max_num_queries(6):
            response = search(
                api, haircut, page_size=page_size, **{"from": day, "to": day + timedelta(days=6)}
            )
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size

    def test_pages_of_at_most_a_hundred_without_a_count(self, api, make_provider, haircut, day):
        make_provider(products=[haircut], hours=[(d, "00:00", "23:59") for d in range(7)])
        query = {"from": day, "to": day + timedelta(days=1), "duration": 15}
        first = search(api, haircut, page_size=1000, **query).json()
        assert len(first["results"]) == 100 and "count" not in first and first["previous"] is None
        second = api().get(first["next"]).json()
        assert len(second["results"]) == 2 * 95 - 100 and second["next"] is None
        assert second["previous"] and "page=" not in second["previous"]
        assert first["results"][-1]["start"] < second["results"][0]["start"]
        assert search(api, haircut, page=3, page_size=100, **query).status_code == 404
        assert "page" in field_errors(search(api, haircut, page=0, **query))


class TestSearchRefusals:
    def test_service_from_and_to_are_required(self, api):
        assert set(field_errors(api().get(SEARCH))) == {"service", "from", "to"}

    def test_a_service_that_is_not_on_sale_is_a_400(self, api, day):
        from apps.products.services import product_update

        retired = new_product()
        product_update(product=retired, data={"is_active": False}, actor=None)
        for service in (retired.pk, 10**9):
            response = api().get(SEARCH, {"service": service, "from": day, "to": day})
            assert "service" in field_errors(response)

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "tomorrow"}, "from"),
            ({"to": "2030-01-31T09:00:00"}, "to"),  # no offset: whose 09:00?
            ({"to": "2030-02-31"}, "to"),
            ({"to": "9999-12-31"}, "to"),
            ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
            ({"to": "9999-12-31T23:59:59-12:00"}, "to"),
            ({"duration": "50"}, "duration"),
            ({"duration": "60.0"}, "duration"),
            ({"duration": "600"}, "duration"),
            ({"service": "x"}, "service"),
        ],
    )
    def test_malformed_parameters_are_a_400_naming_them(self, api, haircut, day, query, field):
        base = {"service": haircut.pk, "from": day.isoformat(), "to": day.isoformat()}
        assert field in field_errors(api().get(SEARCH, {**base, **query}))

    def test_a_range_that_is_backwards_or_longer_than_a_week_is_a_400(self, api, haircut, day):
        backwards = {"from": day + timedelta(days=1), "to": day}
        assert "to" in field_errors(search(api, haircut, **backwards))
        assert "to" in field_errors(search(api, haircut, **{"from": day, "to": day + timedelta(days=7)}))
        assert search(api, haircut, **{"from": day, "to": day + timedelta(days=6)}).status_code == 200

    def test_a_range_past_the_booking_horizon_is_a_400(self, api, haircut, settings):
        settings.BOOKING_MAX_DAYS_AHEAD = 30
        far = days_ahead(32, "UTC")
        assert "from" in field_errors(search(api, haircut, **{"from": far, "to": far}))

    def test_a_parameter_given_twice_is_a_400(self, api, haircut, day):
        url = f"{SEARCH}?service={haircut.pk}&from={day}&to={day}&to={day}"
        assert "to" in field_errors(api().get(url))


class TestNext:
    def test_each_providers_first_free_slot_soonest_first_and_none_last(
        self, api, make_provider, make_customer, haircut, day
    ):
        weekday = day.weekday()
        booked_morning = make_provider(products=[haircut], hours=[(weekday, "09:00", "11:00")])
        new_booking(customer=make_customer(), provider=booked_morning, start=local(day, "09:00"))
        free_morning = make_provider(products=[haircut], hours=[(weekday, "09:30", "11:00")])
        no_hours = make_provider(products=[haircut], hours=[], full_name="Idle")
        make_provider(products=[new_product()])
        response = api().get(NEXT, {"service": haircut.pk})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 3
        assert [(r["provider"]["id"], r["slot"] and r["slot"]["start"]) for r in body["results"]] == [
            (free_morning.pk, local(day, "09:30").isoformat()),
            (booked_morning.pk, local(day, "10:00").isoformat()),
            (no_hours.pk, None),
        ]
        assert body["results"][1]["slot"]["end"] == local(day, "11:00").isoformat()
        assert body["results"][2] == {
            "provider": {"id": no_hours.pk, "name": "Idle"},
            "time_zone": "Europe/London",
            "slot": None,
        }

    def test_a_slot_months_ahead_is_found(self, api, make_provider, make_customer, haircut, settings):
        settings.BOOKING_MAX_DAYS_AHEAD = 120
        far = days_ahead(100)
        provider = make_provider(products=[haircut], hours=[(far.weekday(), "09:00", "10:00")])
        # every earlier such weekday is booked
        customer = make_customer()
        day = far - timedelta(days=7)
        while day > days_ahead(0):
            new_booking(customer=customer, provider=provider, start=local(day, "09:00"))
            day -= timedelta(days=7)
        results = api().get(NEXT, {"service": haircut.pk}).json()["results"]
        assert results == [
            {
                "provider": {"id": provider.pk, "name": provider.get_full_name()},
                "time_zone": "Europe/London",
                "slot": {"start": local(far, "09:00").isoformat(), "end": local(far, "10:00").isoformat()},
            }
        ]

    def test_nothing_past_the_horizon(self, api, make_provider, haircut, settings):
        settings.BOOKING_MAX_DAYS_AHEAD = 3
        far = days_ahead(5)
        make_provider(products=[haircut], hours=[(far.weekday(), "09:00", "10:00")])
        assert api().get(NEXT, {"service": haircut.pk}).json()["results"][0]["slot"] is None

    def test_refusals(self, api, haircut):
        assert "service" in field_errors(api().get(NEXT))
        assert "service" in field_errors(api().get(NEXT, {"service": 10**9}))
        assert "duration" in field_errors(api().get(NEXT, {"service": haircut.pk, "duration": 20}))

    @pytest.mark.parametrize("page_size", [2, 50])
    def test_a_bounded_number_of_queries_for_any_number_of_providers(
        self, api, make_provider, haircut, django_assert_max_num_queries, page_size
    ):
        for _ in range(6):
            make_provider(products=[haircut])
            make_provider(products=[haircut], hours=[])  # never a slot: looked for once only
        new_user()
        # the service, the providers, their exceptions; then per step (at most three) hours and bookings
        with django_assert_max_num_queries(9):
            response = api().get(NEXT, {"service": haircut.pk, "page_size": page_size})
        assert len(response.json()["results"]) == min(page_size, 12)
