"""Leaving and coming back: closing an account, reactivating it by email, and its erasure once the
grace period is over."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import AccountDeletion, AuthSession, User
from apps.accounts.services import accounts_erase_due, user_activate
from apps.accounts.tasks import erase_closed_accounts
from apps.analytics.models import LoginEvent
from apps.bookings.models import Booking, WorkingHours
from apps.bookings.notifications import booking_parties_notify
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from tests.bookings import factories
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

ME = "/api/v1/users/me/"
REACTIVATE = "/api/v1/auth/reactivate/"
CONFIRM = "/api/v1/auth/reactivate/confirm/"


@pytest.fixture
def close(api, deliver):
    """`close(user)`: DELETE users/me/ with the right password, its messages delivered."""

    def close(user):
        response = deliver(lambda: api(user).delete(ME, {"password": DEFAULT_PASSWORD}))
        assert response.status_code == 204, response.content
        return AccountDeletion.objects.get(user=user)

    return close


@pytest.fixture
def reactivation_token(api, deliver):
    """`reactivation_token(email)`: ask for a link and read the token out of the email."""

    def token(email: str) -> str:
        mail.outbox.clear()
        assert deliver(lambda: api().post(REACTIVATE, {"email": email})).status_code == 202
        (message,) = mail.outbox
        return re.search(r"reactivate\?token=(\S+)", message.body).group(1)

    return token


def erase_after_grace(deletion: AccountDeletion) -> int:
    return accounts_erase_due(now=deletion.erase_after + timedelta(seconds=1))


class TestClosing:
    def test_closing_deactivates_ends_sessions_and_schedules_the_erasure(
        self, close, make_user, sign_in, token_answers, settings
    ):
        settings.ACCOUNT_DELETION_GRACE_DAYS = 10
        user = make_user()
        tokens = sign_in(user)
        deletion = close(user)
        user.refresh_from_db()
        assert not user.is_active
        assert token_answers(tokens) == {"access": 401, "refresh": 401}
        assert not AuthSession.objects.filter(user=user, ended_at__isnull=True).exists()
        assert deletion.erase_after - deletion.requested_at == timedelta(days=10)
        assert AuditLog.objects.filter(action="user.delete_request", target_id=str(user.pk)).exists()

    def test_the_owner_is_told_when_and_how_to_come_back(self, close, make_user):
        user = make_user()
        mail.outbox.clear()
        close(user)
        (message,) = mail.outbox
        assert message.to == [user.email]
        assert "erased" in message.body and "/reactivate" in message.body

    def test_future_bookings_are_cancelled_and_the_other_party_told(self, close, make_user, deliver):
        customer = factories.new_customer()
        provider = factories.new_provider(full_name="Pat Provider")
        start = timezone.now() + timedelta(hours=2)  # inside the customer's cut-off: cancelled anyway
        upcoming = factories.new_booking(customer=customer, provider=provider, start=start)
        booking_parties_notify(upcoming, "created")  # both parties heard of it
        Notification.objects.update(status="sent", sent_at=timezone.now())
        past = factories.new_booking(
            customer=customer, provider=provider, start=timezone.now() - timedelta(days=3), status="completed"
        )
        close(customer)
        upcoming.refresh_from_db()
        past.refresh_from_db()
        assert upcoming.status == Booking.Status.CANCELLED and upcoming.cancelled_by_id == customer.pk
        assert past.status == Booking.Status.COMPLETED
        to_provider = Notification.objects.filter(recipient=provider, key="booking_cancelled")
        assert to_provider.exists()

    def test_messages_still_queued_for_the_user_are_dropped(self, api, make_user):
        user = make_user()
        queued = Notification.objects.create(
            recipient=user, channel="email", key="welcome", category="account", next_attempt_at=timezone.now()
        )
        assert api(user).delete(ME, {"password": DEFAULT_PASSWORD}).status_code == 204
        queued.refresh_from_db()
        assert queued.status == Notification.Status.FAILED

    def test_a_closed_account_cannot_sign_in(self, api, close, make_user):
        user = make_user()
        close(user)
        response = api().post("/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 401


class TestRegisteringWithTheAddressOfAClosedAccount:
    def test_is_a_400_that_says_how_to_come_back(self, api, close, make_user):
        user = make_user()
        close(user)
        body = {"email": user.email, "username": "newname", "password": "a-fresh-pass-phrase-9"}
        response = api().post("/api/v1/auth/register/", body)
        assert response.status_code == 400
        assert "auth/reactivate/" in response.json()["field_errors"]["email"][0]

    def test_an_address_in_use_reads_as_before(self, api, make_user):
        user = make_user()
        body = {"email": user.email, "username": "newname", "password": "a-fresh-pass-phrase-9"}
        response = api().post("/api/v1/auth/register/", body)
        assert response.json()["field_errors"]["email"] == ["A user with that email already exists."]


class TestReactivation:
    def test_the_emailed_link_opens_the_account_again(self, api, close, make_user, reactivation_token):
        user = make_user()
        close(user)
        token = reactivation_token(user.email)
        assert api().post(CONFIRM, {"token": token}).status_code == 204
        user.refresh_from_db()
        assert user.is_active
        assert not AccountDeletion.objects.filter(user=user).exists()
        login = api().post("/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200
        assert AuditLog.objects.filter(action="user.reactivate", target_id=str(user.pk)).exists()

    def test_the_link_works_once(self, api, close, make_user, reactivation_token):
        user = make_user()
        close(user)
        token = reactivation_token(user.email)
        assert api().post(CONFIRM, {"token": token}).status_code == 204
        response = api().post(CONFIRM, {"token": token})
        assert response.status_code == 400
        assert "token" in response.json()["field_errors"]

    def test_a_link_of_an_earlier_closing_is_dead(self, api, close, make_user, reactivation_token):
        user = make_user()
        close(user)
        old = reactivation_token(user.email)
        assert api().post(CONFIRM, {"token": reactivation_token(user.email)}).status_code == 204
        close(user)
        assert api().post(CONFIRM, {"token": old}).status_code == 400

    def test_a_forged_token_is_a_400(self, api):
        response = api().post(CONFIRM, {"token": "not-a-token"})
        assert response.status_code == 400
        assert "token" in response.json()["field_errors"]

    @pytest.mark.parametrize("who", ["nobody", "active", "closed"])
    def test_the_request_answers_the_same_for_every_address(self, api, close, make_user, deliver, who):
        active, closed = make_user(), make_user()
        close(closed)
        email = {"nobody": "nobody@example.com", "active": active.email, "closed": closed.email}[who]
        mail.outbox.clear()
        response = deliver(lambda: api().post(REACTIVATE, {"email": email}))
        assert (response.status_code, response.content) == (202, b"")
        assert len(mail.outbox) == (1 if who == "closed" else 0)

    def test_requests_are_throttled(self, api, settings):
        for _ in range(5):
            assert api().post(REACTIVATE, {"email": "x@example.com"}).status_code == 202
        assert api().post(REACTIVATE, {"email": "x@example.com"}).status_code == 429

    def test_unknown_fields_are_a_400(self, api):
        assert api().post(REACTIVATE, {"email": "x@example.com", "extra": 1}).status_code == 400

    def test_staff_activating_the_account_call_off_the_erasure(self, close, make_user, superuser):
        user = make_user()
        deletion = close(user)
        user.refresh_from_db()
        user_activate(user=user, actor=superuser)
        assert erase_after_grace(deletion) == 0
        user.refresh_from_db()
        assert user.is_active and user.email.endswith("@example.com")

    def test_staff_activating_through_the_api_call_off_the_erasure(self, api, close, make_user):
        staff = make_user("accounts.change_user", is_staff=True)
        user = make_user()
        close(user)
        response = api(staff).patch(f"/api/v1/users/{user.pk}/", {"is_active": True})
        assert response.status_code == 200
        assert not AccountDeletion.objects.filter(user=user).exists()


class TestErasure:
    def test_is_not_done_during_the_grace_period(self, close, make_user):
        user = make_user()
        close(user)
        assert accounts_erase_due() == 0
        assert erase_closed_accounts() == 0

    def test_empties_the_account_and_frees_the_address(self, api, close, make_user, sign_in):
        user = make_user(full_name="Ada Lovelace")
        email, pk = user.email, user.pk
        sign_in(user)
        LoginEvent.objects.create(user_id=pk, email=email, success=True, ip="10.0.0.1")
        LoginEvent.objects.create(email=email, success=False, ip="10.0.0.2")
        deletion = close(user)
        assert erase_after_grace(deletion) == 1
        user = User.objects.get(pk=pk)
        assert (user.email, user.username, user.full_name, str(user.phone)) == (
            f"erased-{pk}@erased.invalid",
            f"erased-{pk}",
            "",
            "",
        )
        assert not user.has_usable_password() and not user.is_active
        assert not user.groups.exists()
        assert not AuthSession.objects.filter(user_id=pk).exists()
        assert not Notification.objects.filter(recipient_id=pk).exists()
        assert not LoginEvent.objects.filter(email=email).exists()
        assert not LoginEvent.objects.filter(user_id=pk).exists()
        assert AccountDeletion.objects.get(user_id=pk).erased_at is not None
        body = {"email": email, "username": user_username_free(), "password": "a-fresh-pass-phrase-9"}
        assert api().post("/api/v1/auth/register/", body).status_code == 201

    def test_keeps_the_bookings_for_the_other_party(self, close):
        customer = factories.new_customer()
        provider = factories.new_provider()
        past = factories.new_booking(
            customer=customer, provider=provider, start=timezone.now() - timedelta(days=3), status="completed"
        )
        erase_after_grace(close(customer))
        past.refresh_from_db()
        assert past.customer_id == customer.pk and past.status == "completed"

    def test_a_provider_loses_the_schedule(self, close):
        provider = factories.new_provider()
        assert WorkingHours.objects.filter(provider_id=provider.pk).exists()
        erase_after_grace(close(provider))
        assert not WorkingHours.objects.filter(provider_id=provider.pk).exists()

    def test_redacts_personal_values_in_the_audit_trail_and_keeps_the_entries(
        self, api, close, make_user, deliver
    ):
        user = make_user(full_name="Ada Lovelace")
        api(user).patch(ME, {"full_name": "Ada King"}, REMOTE_ADDR="10.1.2.3")
        entries = AuditLog.objects.filter(target_id=str(user.pk), target_type="accounts.user")
        kept = entries.count()
        erase_after_grace(close(user))
        assert entries.count() >= kept
        change = entries.get(action="user.profile_update")
        assert change.changes["full_name"] == ["[erased]", "[erased]"]
        assert change.ip is None
        assert AuditLog.objects.filter(action="user.erase", target_id=str(user.pk)).exists()

    def test_runs_again_safely(self, close, make_user):
        deletion = close(make_user())
        assert erase_after_grace(deletion) == 1
        assert erase_after_grace(deletion) == 0

    def test_the_task_is_on_the_beat_schedule(self, settings):
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "accounts.erase_closed_accounts" in tasks


def user_username_free() -> str:
    return "ada-again"


class TestAdmin:
    @pytest.fixture
    def admin_client(self, client, superuser):
        client.force_login(superuser)
        return client

    def test_staff_see_pending_deletions_and_their_dates(self, admin_client, close, make_user):
        pending, erased = make_user(), make_user()
        erase_after_grace(close(erased))
        deletion = close(pending)
        listing = admin_client.get("/admin/accounts/accountdeletion/?state=pending")
        assert listing.status_code == 200
        assert pending.email in listing.content.decode()
        assert f"erased-{erased.pk}@" not in listing.content.decode()
        page = admin_client.get(f"/admin/accounts/accountdeletion/{deletion.pk}/change/")
        assert page.status_code == 200
