"""confirm/, cancel/, complete/, no-show/: who may, from which status, and when; each audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bookings.models import Booking
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from tests.bookings.factories import new_booking
from tests.conftest import grant

pytestmark = pytest.mark.django_db(databases="__all__")


def url(booking, action: str) -> str:
    return f"/api/v1/bookings/{booking.pk}/{action}/"


def deliver_queued() -> None:
    """Deliver every queued message now, as the workers do once their countdowns are over."""
    from apps.notifications.services import notification_deliver

    for pk in Notification.objects.filter(status="queued").values_list("pk", flat=True):
        notification_deliver(notification_id=pk)


def status_of(booking) -> str:
    return Booking.objects.values_list("status", flat=True).get(pk=booking.pk)


@pytest.fixture
def started(customer, provider):
    """A confirmed booking that started ten minutes ago."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    return new_booking(customer=customer, provider=provider, start=start, status="confirmed")


class TestConfirm:
    def test_the_provider_confirms_and_both_are_told(
        self, api, booking, provider, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(provider).post(url(booking, "confirm"))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "confirmed"
        entry = AuditLog.objects.get(action="booking.confirm")
        assert (entry.actor_id, entry.changes) == (provider.pk, {"status": ["pending", "confirmed"]})
        sent = Notification.objects.filter(key="booking_confirmed")
        assert sent.count() == 4 and all(n.status == "sent" for n in sent), [n.last_error for n in sent]

    def test_staff_with_the_permission_confirm(self, api, booking, staff):
        assert api(staff).post(url(booking, "confirm")).json()["status"] == "confirmed"

    def test_the_customer_cannot_confirm_even_holding_the_permission(self, api, booking, customer):
        grant(customer, "bookings.confirm_booking")
        response = api(customer).post(url(booking, "confirm"))
        assert response.status_code == 403
        assert status_of(booking) == "pending"

    def test_staff_without_the_permission_cannot(self, api, booking, make_user):
        viewer = make_user("bookings.view_all_bookings")
        assert api(viewer).post(url(booking, "confirm")).status_code == 403

    def test_confirming_twice_is_a_409(self, api, booking, provider):
        api(provider).post(url(booking, "confirm"))
        response = api(provider).post(url(booking, "confirm"))
        assert response.status_code == 409
        assert "pending" in response.json()["message"]

    def test_a_started_booking_cannot_be_confirmed(self, api, customer, provider):
        past = new_booking(customer=customer, provider=provider, start=timezone.now() - timedelta(minutes=5))
        assert api(provider).post(url(past, "confirm")).status_code == 409

    def test_someone_elses_booking_is_404(self, api, booking, make_provider):
        assert api(make_provider()).post(url(booking, "confirm")).status_code == 404


class TestCancel:
    def test_the_customer_cancels_with_a_reason(
        self, api, booking, customer, django_capture_on_commit_callbacks
    ):
        deliver_queued()  # both parties have heard of the booking by now
        with django_capture_on_commit_callbacks(execute=True):
            response = api(customer).post(url(booking, "cancel"), {"reason": "Ill"})
        body = response.json()
        assert (response.status_code, body["status"], body["cancellation_reason"]) == (
            200,
            "cancelled",
            "Ill",
        )
        assert body["cancelled_by"] == customer.pk and body["cancelled_at"]
        assert AuditLog.objects.filter(action="booking.cancel", actor_id=customer.pk).exists()
        sent = Notification.objects.filter(key="booking_cancelled")
        assert sent.count() == 4 and all(n.status == "sent" for n in sent), [n.last_error for n in sent]
        assert all("Ill" in n.body for n in sent)

    def test_a_cancelled_booking_frees_its_time(self, api, book, booking, customer, make_customer, provider):
        api(customer).post(url(booking, "cancel"))
        assert book(make_customer(), provider, booking.start).status_code == 201

    def test_the_customer_cannot_cancel_after_the_cut_off(self, api, customer, provider, settings):
        settings.BOOKING_CANCEL_CUTOFF_HOURS = 24
        soon = new_booking(customer=customer, provider=provider, start=timezone.now() + timedelta(hours=5))
        response = api(customer).post(url(soon, "cancel"))
        assert response.status_code == 409
        assert "24 hours" in response.json()["message"]
        assert status_of(soon) == "pending"

    def test_the_provider_and_staff_cancel_any_time(self, api, customer, provider, staff):
        soon = new_booking(customer=customer, provider=provider, start=timezone.now() + timedelta(hours=1))
        assert api(provider).post(url(soon, "cancel")).status_code == 200
        later = new_booking(customer=customer, provider=provider, start=timezone.now() + timedelta(hours=3))
        assert api(staff).post(url(later, "cancel")).status_code == 200

    @pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
    def test_only_active_bookings_can_be_cancelled(self, api, customer, provider, status):
        done = new_booking(
            customer=customer, provider=provider, start=timezone.now() + timedelta(days=3), status=status
        )
        assert api(provider).post(url(done, "cancel")).status_code == 409

    def test_a_reason_is_bounded_text(self, api, booking, customer):
        assert api(customer).post(url(booking, "cancel"), {"reason": "x" * 501}).status_code == 400
        assert api(customer).post(url(booking, "cancel"), {"reason": 7}).status_code == 400

    def test_someone_elses_booking_is_404(self, api, booking, make_customer):
        assert api(make_customer()).post(url(booking, "cancel")).status_code == 404


class TestFinish:
    @pytest.mark.parametrize(("action", "status"), [("complete", "completed"), ("no-show", "no_show")])
    def test_the_provider_finishes_a_started_booking(self, api, started, provider, action, status):
        response = api(provider).post(url(started, action))
        assert (response.status_code, response.json()["status"]) == (200, status)
        assert AuditLog.objects.filter(action=f"booking.{status}").exists()

    @pytest.mark.parametrize("action", ["complete", "no-show"])
    def test_not_before_the_start(self, api, booking, provider, action):
        api(provider).post(url(booking, "confirm"))
        response = api(provider).post(url(booking, action))
        assert response.status_code == 409
        assert "not started" in response.json()["message"]

    @pytest.mark.parametrize("action", ["complete", "no-show"])
    def test_only_confirmed_bookings(self, api, customer, provider, action):
        pending = new_booking(
            customer=customer, provider=provider, start=timezone.now() - timedelta(minutes=5)
        )
        assert api(provider).post(url(pending, action)).status_code == 409

    @pytest.mark.parametrize("action", ["complete", "no-show"])
    def test_the_customer_cannot(self, api, started, customer, action):
        assert api(customer).post(url(started, action)).status_code == 403
        assert status_of(started) == "confirmed"

    def test_staff_can(self, api, started, staff):
        assert api(staff).post(url(started, "complete")).status_code == 200

    def test_a_finished_booking_stays_finished(self, api, started, provider):
        api(provider).post(url(started, "complete"))
        assert api(provider).post(url(started, "no-show")).status_code == 409
        assert api(provider).post(url(started, "cancel")).status_code == 409


def test_every_transition_needs_a_token(api, booking):
    for action in ("confirm", "cancel", "complete", "no-show"):
        assert api().post(url(booking, action)).status_code == 401
