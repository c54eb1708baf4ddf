"""POST, GET, PATCH bookings/: every rule of a booking's time, 400 naming the field, 409 for an
overlap, and other people's bookings 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from apps.bookings.models import Booking
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from tests.bookings.factories import local, new_booking, utc_text
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")

BOOKINGS = "/api/v1/bookings/"


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["field_errors"]


class TestCreate:
    def test_a_booking_is_made_pending_with_the_price_of_the_service(self, api, customer, make_provider, day):
        service = new_product(price=Decimal("45.00"), name="Haircut")
        provider = make_provider(products=[service], full_name="Pat Provider")
        start = local(day, "10:00")
        response = api(customer).post(
            BOOKINGS,
            {
                "provider": provider.pk,
                "service": service.pk,
                "start": start.isoformat(),
                "duration_minutes": 45,
                "notes": "First visit",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        booking = Booking.objects.get(pk=body["id"])
        assert body == {
            "id": booking.pk,
            "customer": {"id": customer.pk, "name": "Cora Customer"},
            "provider": {"id": provider.pk, "name": "Pat Provider"},
            "service": {"id": service.pk, "name": "Haircut", "price": "45.00"},
            "start": utc_text(start),
            "end": utc_text(start + timedelta(minutes=45)),
            "duration_minutes": 45,
            "time_zone": "Europe/London",
            "local_start": start.isoformat(),
            "local_end": (start + timedelta(minutes=45)).isoformat(),
            "status": "pending",
            "price": "45.00",
            "notes": "First visit",
            "cancelled_at": None,
            "cancelled_by": None,
            "cancellation_reason": "",
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
        }
        assert (booking.start, booking.end) == (start, start + timedelta(minutes=45))
        entry = AuditLog.objects.get(action="booking.create")
        assert (entry.actor_id, entry.target_id) == (customer.pk, str(booking.pk))

    def test_the_price_is_a_snapshot(self, api, customer, make_provider, day):
        from apps.products.services import product_update

        service = new_product(price=Decimal("45.00"))
        provider = make_provider(products=[service])
        response = api(customer).post(
            BOOKINGS,
            {
                "provider": provider.pk,
                "service": service.pk,
                "start": local(day, "10:00").isoformat(),
                "duration_minutes": 60,
            },
        )
        product_update(product=service, data={"price": Decimal("60.00")}, actor=None)
        detail = api(customer).get(f"{BOOKINGS}{response.json()['id']}/").json()
        assert (detail["price"], detail["service"]["price"]) == ("45.00", "60.00")

    def test_both_parties_are_told(self, book, customer, provider, day, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            booking = Booking.objects.get(pk=book(customer, provider, local(day, "10:00")).json()["id"])
        sent = Notification.objects.filter(key="booking_created")
        assert {(n.recipient_id, n.channel) for n in sent} == {
            (customer.pk, "email"),
            (customer.pk, "in_app"),
            (provider.pk, "email"),
            (provider.pk, "in_app"),
        }
        assert all(n.status == "sent" for n in sent), [n.last_error for n in sent]
        assert {n.idempotency_key for n in sent} >= {f"booking:{booking.pk}:created:user:{customer.pk}:email"}
        subjects = sorted(m.subject for m in mail.outbox)
        assert any("Pat Provider" in s for s in subjects) and any("Cora Customer" in s for s in subjects)

    def test_a_booking_without_a_service_has_no_price(self, booking):
        assert (booking.product, booking.price) == (None, None)

    @pytest.mark.parametrize("minutes", [0, 10, 20, 495, 600, -15])
    def test_a_duration_outside_the_rules_is_a_400(self, book, customer, provider, day, minutes):
        assert "duration_minutes" in errors(book(customer, provider, local(day, "10:00"), minutes))

    @pytest.mark.parametrize("minutes", [15, 30, 480])
    def test_durations_of_15_minutes_to_8_hours_in_steps_of_15(
        self, book, customer, make_provider, day, minutes
    ):
        provider = make_provider(hours=[(day.weekday(), "08:00", "18:00")])
        assert book(customer, provider, local(day, "09:00"), minutes).status_code == 201

    def test_a_time_without_an_offset_is_refused(self, api, customer, provider, day):
        response = api(customer).post(
            BOOKINGS, {"provider": provider.pk, "start": f"{day}T10:00:00", "duration_minutes": 60}
        )
        assert "offset" in errors(response)["start"][0]

    @pytest.mark.parametrize(
        "start", ["tomorrow", 1700000000, "", "2030-02-30T10:00:00Z", "99999-01-01T00:00Z"]
    )
    def test_a_start_that_is_not_a_date_and_time_is_refused(self, api, customer, provider, start):
        response = api(customer).post(
            BOOKINGS, {"provider": provider.pk, "start": start, "duration_minutes": 60}
        )
        assert "start" in errors(response)

    @pytest.mark.parametrize(
        "start", ["9999-12-31T23:45:00+00:00", "9999-12-31T23:45:00-12:00", "0001-01-01T00:00:00Z"]
    )
    def test_the_ends_of_the_calendar_are_refused_not_failed(self, api, customer, provider, start):
        response = api(customer).post(
            BOOKINGS, {"provider": provider.pk, "start": start, "duration_minutes": 480}
        )
        assert "start" in errors(response)

    def test_off_the_slot_grid_is_refused(self, book, customer, provider, day):
        assert "grid" in errors(book(customer, provider, local(day, "10:05")))["start"][0]

    def test_the_grid_is_the_providers_clock(self, book, customer, make_provider, day):
        provider = make_provider(time_zone="Asia/Kolkata")  # UTC+05:30
        assert book(customer, provider, local(day, "10:15", "Asia/Kolkata")).status_code == 201

    def test_too_soon_is_refused(self, book, customer, provider, settings):
        from django.utils import timezone

        settings.BOOKING_LEAD_MINUTES = 60
        soon = (timezone.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
        soon -= timedelta(minutes=soon.minute % 15)
        assert "ahead" in errors(book(customer, provider, soon))["start"][0]

    def test_too_far_ahead_is_refused(self, book, customer, provider, settings):
        from tests.bookings.factories import days_ahead

        settings.BOOKING_MAX_DAYS_AHEAD = 30
        assert (
            "at most 30 days" in errors(book(customer, provider, local(days_ahead(40), "10:00")))["start"][0]
        )

    def test_the_past_is_refused(self, book, customer, provider):
        from tests.bookings.factories import days_ahead

        assert "start" in errors(book(customer, provider, local(days_ahead(-2), "10:00")))

    @pytest.mark.parametrize(
        ("start", "minutes"), [("08:45", 60), ("16:30", 60), ("17:00", 15), ("06:00", 30)]
    )
    def test_outside_working_hours_is_refused(self, book, customer, provider, day, start, minutes):
        assert "working hours" in errors(book(customer, provider, local(day, start), minutes))["start"][0]

    def test_a_booking_may_not_cross_out_of_an_interval(self, book, customer, make_provider, day):
        provider = make_provider(hours=[(day.weekday(), "09:00", "12:00"), (day.weekday(), "13:00", "17:00")])
        assert "start" in errors(book(customer, provider, local(day, "11:30")))
        assert book(customer, provider, local(day, "11:00")).status_code == 201
        assert book(customer, provider, local(day, "13:00")).status_code == 201

    def test_touching_intervals_count_as_one(self, book, customer, make_provider, day):
        provider = make_provider(hours=[(day.weekday(), "09:00", "12:00"), (day.weekday(), "12:00", "17:00")])
        assert book(customer, provider, local(day, "11:30")).status_code == 201

    def test_a_day_off_is_refused(self, book, customer, make_provider, day):
        provider = make_provider(hours=[((day.weekday() + 1) % 7, "09:00", "17:00")])
        assert "start" in errors(book(customer, provider, local(day, "10:00")))

    def test_unknown_providers_and_users_who_are_not_providers_are_refused(
        self, book, customer, make_user, day
    ):
        stranger = make_user()
        assert "provider" in errors(book(customer, stranger, local(day, "10:00")))
        stranger.pk = 10**12
        assert "provider" in errors(book(customer, stranger, local(day, "10:00")))

    def test_an_inactive_provider_is_refused(self, book, customer, make_provider, day):
        provider = make_provider(is_active=False)
        assert "provider" in errors(book(customer, provider, local(day, "10:00")))

    def test_nobody_books_themselves(self, api, make_provider, day):
        from tests.conftest import grant

        provider = grant(make_provider(), "bookings.add_booking")
        response = api(provider).post(
            BOOKINGS,
            {"provider": provider.pk, "start": local(day, "10:00").isoformat(), "duration_minutes": 60},
        )
        assert "yourself" in errors(response)["provider"][0]

    def test_a_service_the_provider_does_not_offer_is_refused(self, book, customer, make_provider, day):
        offered, other = new_product(), new_product()
        provider = make_provider(products=[offered])
        assert "service" in errors(book(customer, provider, local(day, "10:00"), service=other.pk))
        assert book(customer, provider, local(day, "10:00"), service=offered.pk).status_code == 201

    def test_an_inactive_service_is_refused(self, book, customer, make_provider, day):
        from apps.products.services import product_update

        service = new_product()
        provider = make_provider(products=[service])
        product_update(product=service, data={"is_active": False}, actor=None)
        assert "service" in errors(book(customer, provider, local(day, "10:00"), service=service.pk))

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"provider": "1", "start": "2030-01-01T10:00:00Z", "duration_minutes": 60},
            {"provider": 1, "start": "2030-01-01T10:00:00Z", "duration_minutes": "60"},
            {"provider": 1, "start": "2030-01-01T10:00:00Z", "duration_minutes": 60, "notes": 5},
            {"provider": 1, "start": "2030-01-01T10:00:00Z", "duration_minutes": 60, "notes": "x" * 1001},
            {"provider": 2**70, "start": "2030-01-01T10:00:00Z", "duration_minutes": 60},
        ],
    )
    def test_malformed_bodies_are_field_errors(self, api, customer, body):
        assert errors(api(customer).post(BOOKINGS, body))


class TestOverlaps:
    def test_an_overlapping_booking_with_the_provider_is_a_409(
        self, book, booking, make_customer, provider, day
    ):
        response = book(make_customer(), provider, local(day, "10:30"))
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert Booking.objects.count() == 1

    def test_a_customer_cannot_hold_two_overlapping_bookings(
        self, book, booking, customer, make_provider, day
    ):
        response = book(customer, make_provider(), local(day, "10:30"))
        assert response.status_code == 409
        assert "You already have a booking" in response.json()["message"]

    def test_back_to_back_bookings_both_succeed(self, book, booking, make_customer, provider, day):
        assert book(make_customer(), provider, local(day, "11:00")).status_code == 201
        assert book(make_customer(), provider, local(day, "09:00")).status_code == 201

    @pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
    def test_inactive_bookings_do_not_hold_their_time(
        self, book, customer, make_customer, provider, day, status
    ):
        new_booking(customer=make_customer(), provider=provider, start=local(day, "10:00"), status=status)
        assert book(customer, provider, local(day, "10:00")).status_code == 201


class TestReadAndScope:
    def test_participants_see_it_and_nobody_else_does(self, api, booking, customer, provider, make_customer):
        url = f"{BOOKINGS}{booking.pk}/"
        assert api(customer).get(url).status_code == 200
        assert api(provider).get(url).status_code == 200
        assert api(make_customer()).get(url).status_code == 404

    def test_staff_with_view_all_see_everything(self, api, booking, staff):
        assert api(staff).get(f"{BOOKINGS}{booking.pk}/").status_code == 200
        assert api(staff).get(BOOKINGS).json()["count"] == 1

    def test_a_list_holds_your_bookings_as_customer_and_as_provider(
        self, api, provider, customer, make_customer, make_provider, day
    ):
        mine_as_customer = new_booking(customer=customer, provider=make_provider(), start=local(day, "10:00"))
        other = make_customer()
        mine_as_provider = new_booking(customer=other, provider=provider, start=local(day, "12:00"))
        new_booking(customer=other, provider=make_provider(), start=local(day, "14:00"))
        from tests.conftest import grant

        grant(provider, "bookings.add_booking")
        new_booking(customer=provider, provider=make_provider(), start=local(day, "15:00"))
        ids = {row["id"] for row in api(provider).get(BOOKINGS).json()["results"]}
        assert mine_as_provider.pk in ids and mine_as_customer.pk not in ids and len(ids) == 2
        assert {row["id"] for row in api(customer).get(BOOKINGS).json()["results"]} == {mine_as_customer.pk}

    def test_filters(self, api, staff, customer, make_provider, day):
        a, b = make_provider(), make_provider()
        first = new_booking(customer=customer, provider=a, start=local(day, "10:00"))
        second = new_booking(customer=customer, provider=b, start=local(day, "12:00"), status="confirmed")
        third = new_booking(
            customer=customer, provider=a, start=local(day + timedelta(days=1), "10:00"), status="cancelled"
        )

        def ids(**query):
            response = api(staff).get(BOOKINGS, query)
            assert response.status_code == 200, response.content
            return [row["id"] for row in response.json()["results"]]

        assert ids(provider=a.pk) == [third.pk, first.pk]
        assert ids(status="confirmed") == [second.pk]
        assert set(ids(status=["pending", "cancelled"])) == {first.pk, third.pk}
        assert ids(start_after=utc_text(local(day, "11:00")), start_before=utc_text(local(day, "23:00"))) == [
            second.pk
        ]
        assert ids(ordering="start") == [first.pk, second.pk, third.pk]
        assert ids(customer=customer.pk, service=1) == []

    @pytest.mark.parametrize(
        "query",
        [
            {"status": "maybe"},
            {"provider": "x"},
            {"start_after": "2030-01-01T00:00:00"},
            {"start_after": "soon"},
            {"ordering": "price"},
            {"provider": str(2**70)},
        ],
    )
    def test_bad_filters_are_400(self, api, staff, query):
        assert errors(api(staff).get(BOOKINGS, query))

    def test_a_user_without_the_view_permission_is_403(self, api, make_user):
        assert api(make_user()).get(BOOKINGS).status_code == 403

    @pytest.mark.parametrize("page_size", [5, 50])
    def test_a_list_is_a_fixed_number_of_queries(
        self, api, customer, make_provider, day, django_assert_max_num_queries, page_size
    ):
        for n in range(60):
            new_booking(
                customer=customer,
                provider=make_provider(products=[new_product()]),
                start=local(day, "09:00") + timedelta(days=n // 8, hours=n % 8),
            )
        client = api(customer)
        client.get(BOOKINGS)  # the permission cache is warm from here on
        with django_assert_max_num_queries(3):  # the user, the count, the page
            response = client.get(BOOKINGS, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size

    def test_a_list_costs_the_same_for_any_page_size(self, api, customer, make_provider, day, count_queries):
        for n in range(30):
            new_booking(
                customer=customer, provider=make_provider(), start=local(day, "09:00") + timedelta(hours=n)
            )
        client = api(customer)
        assert count_queries(lambda: client.get(BOOKINGS, {"page_size": 5})) == count_queries(
            lambda: client.get(BOOKINGS, {"page_size": 30})
        )


class TestReschedule:
    def test_moving_a_booking_follows_the_rules_and_tells_both(self, api, booking, customer, day):
        new_start = local(day, "14:00")
        response = api(customer).patch(
            f"{BOOKINGS}{booking.pk}/", {"start": new_start.isoformat(), "duration_minutes": 90}
        )
        assert response.status_code == 200, response.content
        assert (response.json()["start"], response.json()["duration_minutes"]) == (utc_text(new_start), 90)
        assert AuditLog.objects.filter(action="booking.reschedule").exists()
        assert Notification.objects.filter(key="booking_rescheduled").count() == 4

    def test_the_status_is_not_changed_through_patch(self, api, booking, customer, day):
        # Transitions have their own endpoints; a status in the body is named, not silently dropped.
        body = {"status": "confirmed", "start": local(day, "14:00").isoformat()}
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", body)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["status"]
        booking.refresh_from_db()
        assert (booking.status, booking.start) == ("pending", local(day, "10:00"))

    def test_moving_twice_tells_twice(self, api, booking, customer, day):
        for clock in ("14:00", "15:00"):
            assert (
                api(customer)
                .patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, clock).isoformat()})
                .status_code
                == 200
            )
        assert Notification.objects.filter(key="booking_rescheduled").count() == 8

    def test_a_move_may_overlap_the_booking_itself(self, api, booking, customer, day):
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "10:30").isoformat()})
        assert response.status_code == 200, response.content

    def test_a_move_onto_another_booking_is_a_409(
        self, api, booking, customer, make_customer, provider, day, book
    ):
        assert book(make_customer(), provider, local(day, "12:00")).status_code == 201
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "11:30").isoformat()})
        assert response.status_code == 409
        assert Booking.objects.get(pk=booking.pk).start == local(day, "10:00")

    @pytest.mark.parametrize(
        "body",
        [{"start": "2030-01-01T10:00:00"}, {"duration_minutes": 20}, {"start": "x"}, {"notes": "x" * 1001}],
    )
    def test_a_move_that_breaks_a_rule_is_a_400(self, api, booking, customer, body):
        assert errors(api(customer).patch(f"{BOOKINGS}{booking.pk}/", body))

    def test_outside_working_hours_is_a_400(self, api, booking, customer, day):
        assert "start" in errors(
            api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "18:00").isoformat()})
        )

    def test_notes_alone_change_without_a_message(self, api, booking, customer):
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"notes": "Bring the forms"})
        assert response.json()["notes"] == "Bring the forms"
        assert AuditLog.objects.filter(action="booking.update").exists()
        assert not Notification.objects.filter(key="booking_rescheduled").exists()

    def test_a_confirmed_booking_the_customer_moves_is_pending_again(
        self, api, booking, customer, provider, day
    ):
        api(provider).post(f"{BOOKINGS}{booking.pk}/confirm/")
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "14:00").isoformat()})
        assert response.json()["status"] == "pending"

    def test_a_confirmed_booking_the_provider_moves_stays_confirmed(self, api, booking, provider, day):
        api(provider).post(f"{BOOKINGS}{booking.pk}/confirm/")
        response = api(provider).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "14:00").isoformat()})
        assert response.json()["status"] == "confirmed"

    def test_customers_move_only_until_the_cut_off(self, api, customer, provider):
        from django.utils import timezone

        start = (timezone.now() + timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
        soon = new_booking(customer=customer, provider=provider, start=start)
        response = api(customer).patch(
            f"{BOOKINGS}{soon.pk}/", {"start": (start + timedelta(hours=1)).isoformat()}
        )
        assert response.status_code == 409

    def test_a_cancelled_booking_cannot_be_moved(self, api, booking, customer, day):
        api(customer).post(f"{BOOKINGS}{booking.pk}/cancel/")
        response = api(customer).patch(f"{BOOKINGS}{booking.pk}/", {"start": local(day, "14:00").isoformat()})
        assert response.status_code == 409

    def test_someone_elses_booking_is_404(self, api, booking, make_customer, day):
        response = api(make_customer()).patch(f"{BOOKINGS}{booking.pk}/", {"notes": "mine now"})
        assert response.status_code == 404
