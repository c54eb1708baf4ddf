"""Phone numbers: stored in E.164, made the account's only by typing back a code sent by SMS.

`POST users/me/phone/` texts a six-digit code to the pending number; `POST users/me/phone/verify/`
with that code makes the number the account's, verified. The code is made when the SMS is sent,
kept only as a keyed hash, masked in the stored copy of the message, good for ten minutes and
five tries, and works once.
"""

import importlib
import os
import re
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import SMSCode, User
from apps.accounts.services import phone as phone_services
from apps.accounts.services import sms_codes
from apps.accounts.tokens import sms_code_hash
from apps.logs.models import AuditLog
from apps.notifications import kinds
from apps.notifications.models import Notification
from apps.notifications.rendering import MASK
from apps.notifications.sms import outbox
from tests.accounts.factories import phone_verification_with_code, phone_verifications
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

ME = "/api/v1/users/me/"
PHONE = "/api/v1/users/me/phone/"
VERIFY = "/api/v1/users/me/phone/verify/"
MOBILE = "+447911123456"  # a valid UK mobile number, in E.164
OTHER_MOBILE = "+447400123456"


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    outbox.clear()
    yield
    outbox.clear()


@pytest.fixture
def make_user(make_user):
    """Users who have verified their email address, as adding a phone number needs."""

    def make(*permissions, **fields):
        fields.setdefault("email_verified_at", timezone.now())
        return make_user(*permissions, **fields)

    return make


@pytest.fixture
def ask(api, django_capture_on_commit_callbacks):
    """`ask(user, phone)`: the user asks, with their password, for a code for `phone`; the SMS is
    delivered (the request's transaction commits, the eager delivery task runs)."""

    def ask(user, phone=MOBILE, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return api(user).post(PHONE, {"phone": phone, "password": DEFAULT_PASSWORD, **extra})

    ask.api = api
    return ask


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def verified(user, phone=MOBILE) -> User:
    user.phone, user.phone_verified_at = phone, timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def verification_with_code(user, code="000000", phone=MOBILE) -> SMSCode:
    """A live verification of `user` whose code is `code`, as if its SMS had just gone out."""
    return phone_verification_with_code(user, phone=phone, code=code)


class TestAskingForACode:
    @pytest.mark.parametrize(
        "typed",
        ["+44 7911 123456", "07911 123456", "(07911) 123-456", "+447911123456", "0044 7911 123456"],
    )
    def test_any_spelling_of_a_number_is_read_as_e164(self, ask, make_user, typed):
        response = ask(make_user(), typed)
        assert response.status_code == 202
        assert response.json() == {"phone": MOBILE}

    def test_a_number_without_its_country_code_is_read_in_the_default_region(self, ask, make_user, settings):
        assert settings.PHONE_DEFAULT_REGION == "GB"
        assert ask(make_user(), "020 7946 0958").json() == {"phone": "+442079460958"}

    @pytest.mark.parametrize(
        "typed", ["call me", "+44 12", "07700 900123", "+999 123456789", "", " ", "1" * 65]
    )
    def test_an_invalid_number_is_400_on_phone_and_sends_nothing(self, ask, make_user, typed):
        response = ask(make_user(), typed)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["phone"]
        assert outbox == [] and not phone_verifications().exists()

    @pytest.mark.parametrize("sent", [447911123456, None, ["+447911123456"], {"phone": MOBILE}])
    def test_a_number_must_be_sent_as_text(self, ask, make_user, sent):
        response = ask(make_user(), sent)
        assert response.status_code == 400
        assert "phone" in response.json()["field_errors"]

    def test_the_code_goes_by_sms_to_the_pending_number(self, ask, make_user):
        user = make_user()
        ask(user, "07911 123456")
        [message] = outbox
        assert message.to == MOBILE
        assert re.fullmatch(
            r"\d{6} is your Backend verification code\. It expires in 10 minutes\.", message.body
        )

    def test_the_number_is_not_the_accounts_until_it_is_verified(self, ask, make_user):
        user = verified(make_user(), OTHER_MOBILE)
        ask(user)
        user.refresh_from_db()
        assert (str(user.phone), user.is_phone_verified) == (OTHER_MOBILE, True)
        assert phone_verifications().get(user=user).phone == MOBILE

    def test_the_stored_message_masks_the_code(self, ask, make_user):
        ask(make_user())
        code = code_in(outbox[0])
        notification = Notification.objects.get(key="phone_verification")
        assert (notification.channel, notification.status, notification.address) == ("sms", "sent", MOBILE)
        assert code not in notification.body and MASK in notification.body
        assert notification.context == {
            "verification_id": phone_verifications().get().pk,
            "phone": MOBILE,
        }

    def test_only_a_keyed_hash_of_the_code_is_kept(self, ask, make_user):
        ask(make_user())
        code = code_in(outbox[0])
        verification = phone_verifications().get()
        assert verification.code_hash == sms_code_hash(verification, code) != code

    def test_the_code_is_good_for_ten_minutes_from_when_it_is_sent(self, ask, make_user):
        ask(make_user())
        verification = phone_verifications().get()
        assert verification.expires_at - verification.sent_at == timedelta(minutes=10)

    def test_asking_again_replaces_the_earlier_code(self, ask, api, make_user):
        user = make_user()
        ask(user)
        ask(user, OTHER_MOBILE)
        first, second = (code_in(message) for message in outbox)
        assert phone_verifications().filter(user=user).count() == 1
        if first != second:  # one in a million: the same six digits twice
            assert api(user).post(VERIFY, {"code": first}).status_code == 400
        response = api(user).post(VERIFY, {"code": second})
        assert response.status_code == 200
        assert response.json()["phone"] == OTHER_MOBILE

    def test_an_sms_still_queued_for_a_replaced_verification_is_not_sent(
        self, api, make_user, django_capture_on_commit_callbacks
    ):
        user = make_user()
        with django_capture_on_commit_callbacks() as first_delivery:  # its task has not run yet
            api(user).post(PHONE, {"phone": OTHER_MOBILE, "password": DEFAULT_PASSWORD})
        with django_capture_on_commit_callbacks(execute=True):
            api(user).post(PHONE, {"phone": MOBILE, "password": DEFAULT_PASSWORD})
        for deliver in first_delivery:
            deliver()
        assert [message.to for message in outbox] == [MOBILE]
        stale = Notification.objects.get(address=OTHER_MOBILE)
        assert stale.status == "failed" and stale.last_error.startswith("not needed")

    def test_a_number_verified_by_another_account_is_answered_like_any_other(self, ask, make_user):
        """The answer must not tell which numbers have accounts: the same 202 and body as for a
        number nobody has."""
        verified(make_user(email="owner@example.com"))
        taken, free = ask(make_user(), MOBILE), ask(make_user(), OTHER_MOBILE)
        assert (taken.status_code, free.status_code) == (202, 202)
        assert taken.json() == {"phone": MOBILE} and free.json() == {"phone": OTHER_MOBILE}

    def test_a_number_verified_by_another_account_takes_the_same_queries(self, api, make_user):
        """The request does the same work either way; only the delivery task, later, skips the text."""
        from django.test.utils import CaptureQueriesContext

        verified(make_user(email="owner@example.com"))
        statements = []
        for number in (MOBILE, OTHER_MOBILE):
            client = api(make_user())
            with CaptureQueriesContext(connection) as captured:
                assert client.post(PHONE, {"phone": number, "password": DEFAULT_PASSWORD}).status_code == 202
            statements.append(
                [
                    re.sub(r'"s\d+_x\d+"', "", re.split(" WHERE | VALUES | SET ", q["sql"])[0])
                    for q in captured
                ]
            )
        assert statements[0] == statements[1]

    def test_a_number_verified_by_another_account_is_not_texted(self, ask, make_user):
        verified(make_user(email="owner@example.com"))
        asker = make_user()
        ask(asker)
        assert outbox == [], "its owner gets no code they did not ask for"
        assert Notification.objects.get(address=MOBILE).last_error.startswith("not needed")
        response = ask.api(asker).post(VERIFY, {"code": "123456"})
        assert response.status_code == 400 and list(response.json()["field_errors"]) == ["code"]
        assert User.objects.get(pk=asker.pk).phone_verified_at is None

    def test_an_unverified_email_address_cannot_add_a_number(self, ask, make_user):
        response = ask(make_user(email_verified_at=None))
        assert response.status_code == 403
        assert response.json()["code"] == "email_not_verified"
        assert "email" in response.json()["message"]
        assert outbox == [] and not phone_verifications().exists()

    def test_a_number_outside_the_allowed_countries_is_400_on_phone(self, ask, make_user, settings):
        settings.SMS_ALLOWED_COUNTRIES = frozenset({"GB", "IE"})
        response = ask(make_user(), "+33 6 12 34 56 78")
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["phone"]
        assert outbox == [] and not phone_verifications().exists()
        assert ask(make_user(), OTHER_MOBILE).status_code == 202
        assert ask(make_user(), "+353 85 123 4567").status_code == 202

    def test_countries_are_regions_not_calling_codes(self, ask, make_user, settings):
        """+1 is also Jamaica's code, and +44 Guernsey's: a favourite of SMS pumping, and not the
        country the list named."""
        settings.SMS_ALLOWED_COUNTRIES = frozenset({"GB", "US"})
        assert ask(make_user(), "+1 876 555 1234").status_code == 400  # Jamaica
        assert ask(make_user(), MOBILE).status_code == 400  # a Guernsey mobile
        settings.SMS_ALLOWED_COUNTRIES = frozenset({"GG"})
        assert ask(make_user(), MOBILE).status_code == 202

    def test_by_default_every_country_is_allowed(self, ask, make_user, settings):
        assert not settings.SMS_ALLOWED_COUNTRIES
        assert ask(make_user(), "+33 6 12 34 56 78").status_code == 202

    def test_the_same_unverified_number_on_other_accounts_is_no_obstacle(self, ask, make_user):
        make_user(phone=MOBILE)  # typed in once, never verified: it proves nothing
        assert ask(make_user()).status_code == 202

    def test_your_own_verified_number_is_400(self, ask, make_user):
        response = ask(verified(make_user()), "07911 123456")
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["phone"]

    def test_the_request_is_audited_without_a_code(self, ask, make_user):
        user = make_user()
        ask(user)
        entry = AuditLog.objects.get(action="user.phone_verification_request")
        assert (entry.actor_id, entry.target_id) == (user.pk, str(user.pk))
        assert entry.changes == {"phone": [None, MOBILE]}  # and so no code

    def test_codes_are_throttled_per_user(self, ask, make_user):
        user = make_user()
        statuses = [ask(user).status_code for _ in range(6)]
        assert statuses == [202] * 5 + [429]
        assert len(outbox) == 5
        assert ask(make_user()).status_code == 202, "another account has its own budget"

    def test_invalid_numbers_count_against_the_limit_too(self, ask, make_user):
        user = make_user()
        assert [ask(user, "call me").status_code for _ in range(6)] == [400] * 5 + [429]


class TestVerifying:
    def test_the_right_code_makes_the_number_the_accounts_and_verified(self, ask, api, make_user):
        user = make_user()
        ask(user, "07911 123456")
        response = api(user).post(VERIFY, {"code": code_in(outbox[0])})
        assert response.status_code == 200
        body = response.json()
        assert body["phone"] == MOBILE and body["phone_verified_at"].endswith("Z")
        user.refresh_from_db()
        assert str(user.phone) == MOBILE and user.is_phone_verified
        assert phone_verifications().get(user=user).used_at is not None

    def test_a_verified_number_receives_the_accounts_text_messages(self, ask, api, make_user):
        user = make_user()
        assert kinds.default_address(user, {}, "sms") is None
        ask(user)
        api(user).post(VERIFY, {"code": code_in(outbox[0])})
        user.refresh_from_db()
        assert kinds.default_address(user, {}, "sms") == MOBILE

    def test_verifying_is_audited_without_the_code(self, ask, api, make_user):
        user = make_user()
        ask(user)
        api(user).post(VERIFY, {"code": code_in(outbox[0])})
        entry = AuditLog.objects.get(action="user.phone_verify")
        assert (entry.actor_id, entry.changes) == (user.pk, {"phone": [None, MOBILE]})  # and so no code

    def test_a_wrong_code_is_400_on_code_and_counts_a_try(self, api, make_user):
        user = make_user()
        verification_with_code(user, "123456")
        response = api(user).post(VERIFY, {"code": "654321"})
        assert response.status_code == 400
        assert response.json()["field_errors"] == {"code": ["This code is wrong; 4 tries left."]}
        assert phone_verifications().get().attempts == 1
        user.refresh_from_db()
        assert not user.is_phone_verified

    def test_after_five_tries_the_code_is_dead_and_a_new_one_must_be_asked_for(self, ask, api, make_user):
        user = make_user()
        verification_with_code(user, "123456")
        answers = [api(user).post(VERIFY, {"code": "000000"}).json() for _ in range(5)]
        assert answers[-1]["field_errors"]["code"] == [
            "This code is wrong, and that was the last try; ask for a new one."
        ]
        response = api(user).post(VERIFY, {"code": "123456"})
        assert response.status_code == 400
        assert response.json()["field_errors"] == {"code": ["Too many wrong codes; ask for a new one."]}
        assert phone_verifications().get().attempts == 5, "a dead verification counts nothing more"
        ask(user)
        assert api(user).post(VERIFY, {"code": code_in(outbox[0])}).status_code == 200

    def test_a_dead_verification_sends_no_code_either(self, make_user):
        user = make_user()
        verification = verification_with_code(user)
        verification.attempts = 5
        verification.save(update_fields=["attempts"])
        context = {"verification_id": verification.pk, "phone": MOBILE}
        assert sms_codes.sms_code_make(kind="phone_verification", user_id=user.pk, context=context) is None

    def test_an_expired_code_is_refused(self, ask, api, make_user, monkeypatch):
        user = make_user()
        ask(user)
        eleven_minutes_on = timezone.now() + timedelta(minutes=11)
        monkeypatch.setattr(timezone, "now", lambda: eleven_minutes_on)
        response = api(user).post(VERIFY, {"code": code_in(outbox[0])})
        assert response.status_code == 400
        assert response.json()["field_errors"] == {"code": ["This code has expired; ask for a new one."]}

    def test_a_code_is_good_until_its_last_minute(self, ask, api, make_user, monkeypatch):
        user = make_user()
        ask(user)
        nine_minutes_on = timezone.now() + timedelta(minutes=9)
        monkeypatch.setattr(timezone, "now", lambda: nine_minutes_on)
        assert api(user).post(VERIFY, {"code": code_in(outbox[0])}).status_code == 200

    def test_a_code_works_once(self, api, make_user):
        user = make_user()
        verification_with_code(user, "123456")
        assert api(user).post(VERIFY, {"code": "123456"}).status_code == 200
        again = api(user).post(VERIFY, {"code": "123456"})
        assert again.status_code == 400
        assert again.json()["field_errors"] == {"code": ["This code was already used; ask for a new one."]}

    def test_with_no_code_asked_for_it_is_400(self, api, make_user):
        response = api(make_user()).post(VERIFY, {"code": "123456"})
        assert response.status_code == 400
        assert response.json()["field_errors"] == {"code": ["No code was sent to you; ask for one first."]}

    def test_one_users_code_does_nothing_for_another(self, api, make_user):
        verification_with_code(make_user(), "123456")
        other = make_user()
        verification_with_code(other, "999999", phone=OTHER_MOBILE)
        assert api(other).post(VERIFY, {"code": "123456"}).status_code == 400

    @pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12 345", "١٢٣٤٥٦", 123456, None])
    def test_anything_but_six_digits_is_400_and_costs_no_try(self, api, make_user, code):
        user = make_user()
        verification_with_code(user, "123456")
        response = api(user).post(VERIFY, {"code": code})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["code"]
        assert phone_verifications().get().attempts == 0

    def test_a_number_verified_elsewhere_meanwhile_is_409(self, api, make_user):
        user = make_user()
        verification_with_code(user, "123456")
        verified(make_user())  # someone else got there first
        response = api(user).post(VERIFY, {"code": "123456"})
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        user.refresh_from_db()
        assert not user.is_phone_verified
        assert phone_verifications().get(user=user).attempts == 1, "the try still counts"

    def test_losing_the_race_on_the_unique_constraint_is_409_too(self, api, make_user, monkeypatch):
        user = make_user()
        verification_with_code(user, "123456")
        verified(make_user())
        # As if the other account verified between the check and the write.
        monkeypatch.setattr(phone_services, "number_verified_elsewhere", lambda phone, user: False)
        response = api(user).post(VERIFY, {"code": "123456"})
        assert response.status_code == 409
        verification = phone_verifications().get(user=user)
        assert (verification.attempts, verification.used_at) == (1, None)

    def test_needs_authentication(self, api):
        assert api().post(PHONE, {"phone": MOBILE}).status_code == 401
        assert api().post(VERIFY, {"code": "123456"}).status_code == 401


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real row lock needs PostgreSQL")
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_right_code_sent_twice_at_once_works_once(make_user):
    from rest_framework_simplejwt.tokens import AccessToken

    user = make_user()
    verification_with_code(user, "123456")
    token = str(AccessToken.for_user(user))
    threads, statuses = 4, []
    barrier = threading.Barrier(threads)

    def confirm():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait()
            statuses.append(client.post(VERIFY, {"code": "123456"}, format="json").status_code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=confirm) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(statuses) == [200] + [400] * (threads - 1)
    assert phone_verifications().get(user=user).attempts == 1, "the used code counted no more tries"


class TestProfileAndStaffEdits:
    def test_the_profile_patch_refuses_a_number_and_points_to_verification(self, api, make_user):
        user = make_user()
        response = api(user).patch(ME, {"phone": "+44 7911 123456"})
        assert response.status_code == 400
        assert "users/me/phone/" in response.json()["field_errors"]["phone"][0]
        user.refresh_from_db()
        assert user.phone == ""

    def test_the_profile_patch_removes_the_number_and_its_verification(self, api, make_user):
        user = verified(make_user())
        response = api(user).patch(ME, {"phone": ""})
        assert response.status_code == 200
        assert (response.json()["phone"], response.json()["phone_verified_at"]) == ("", None)
        user.refresh_from_db()
        assert (user.phone, user.phone_verified_at) == ("", None)
        assert AuditLog.objects.get(action="user.profile_update").changes == {"phone": [MOBILE, ""]}

    def test_the_profile_schema_says_only_an_empty_phone_is_taken(self, openapi_schema):
        phone = openapi_schema["components"]["schemas"]["PatchedProfileUpdateRequest"]["properties"]["phone"]
        assert phone["maxLength"] == 0

    def test_staff_edits_are_stored_in_e164_and_unverified(self, api, make_user):
        other = verified(make_user())
        staff = make_user("accounts.change_user")
        response = api(staff).patch(f"/api/v1/users/{other.pk}/", {"phone": "07400 123456"})
        assert response.status_code == 200
        assert (response.json()["phone"], response.json()["phone_verified_at"]) == (OTHER_MOBILE, None)
        entry = AuditLog.objects.get(action="user.update")
        assert entry.changes == {"phone": [MOBILE, OTHER_MOBILE]}

    def test_staff_rewriting_the_same_number_keeps_it_verified(self, api, make_user):
        other = verified(make_user())
        staff = make_user("accounts.change_user")
        response = api(staff).patch(f"/api/v1/users/{other.pk}/", {"phone": "+44 7911 123456"})
        assert response.json()["phone_verified_at"] is not None

    def test_staff_cannot_store_an_invalid_number(self, api, make_user):
        other = make_user()
        staff = make_user("accounts.change_user")
        response = api(staff).patch(f"/api/v1/users/{other.pk}/", {"phone": "call me"})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["phone"]


class TestAdmin:
    @pytest.fixture
    def admin_client(self, client, superuser):
        client.force_login(superuser)
        return client

    def test_changing_the_number_in_the_admin_clears_its_verification(self, admin_client, make_user):
        from tests.accounts.test_admin import change_form_data

        user = verified(make_user())
        response = admin_client.post(
            f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, phone="07400 123456")
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        user.refresh_from_db()
        assert (str(user.phone), user.phone_verified_at) == (OTHER_MOBILE, None)
        changes = AuditLog.objects.get(action="user.update").changes
        assert changes["phone"] == [MOBILE, OTHER_MOBILE] and changes["phone_verified_at"][1] is None

    def test_the_admin_may_set_a_number_another_account_verified_but_unverified(
        self, admin_client, make_user
    ):
        from tests.accounts.test_admin import change_form_data

        verified(make_user())
        user = make_user()
        response = admin_client.post(
            f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, phone=MOBILE)
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert (str(user.phone), user.phone_verified_at) == (MOBILE, None)

    def test_the_user_page_shows_the_verification_time_read_only(self, admin_client, make_user):
        user = verified(make_user())
        response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
        assert "phone_verified_at" not in response.context["adminform"].form.fields
        assert "Phone verified at" in response.content.decode()

    def test_verifications_are_listed_read_only_without_the_code_hash(self, admin_client, make_user):
        verification = verification_with_code(make_user())
        listing = admin_client.get("/admin/accounts/smscode/?purpose=phone_verification")
        assert listing.status_code == 200 and MOBILE in listing.content.decode()
        page = admin_client.get(f"/admin/accounts/smscode/{verification.pk}/change/")
        assert page.status_code == 200
        assert verification.code_hash not in page.content.decode()
        assert "code hash" not in page.content.decode().lower()
        assert admin_client.get("/admin/accounts/smscode/add/").status_code == 403


class TestStoredNumbers:
    e164 = staticmethod(importlib.import_module("apps.accounts.migrations.0004_phone_numbers_to_e164").e164)

    @pytest.mark.parametrize(
        ("stored", "region", "rewritten"),
        [
            ("+44 20 7946 0958", "GB", "+442079460958"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("(020) 7946-0958", "GB", "+442079460958"),
            ("+1 202-555-0143", "GB", "+12025550143"),
            ("+442079460958", "GB", "+442079460958"),
            ("020 7946 0958", None, ""),  # no region: a national number cannot be placed
            ("call me", "GB", ""),
            ("+44 12", "GB", ""),
            ("12345678", "GB", ""),
        ],
    )
    def test_the_data_migration_rewrites_what_parses_in_e164_and_blanks_the_rest(
        self, stored, region, rewritten
    ):
        assert self.e164(stored, region) == rewritten

    def test_a_phone_number_is_stored_and_read_back_in_e164(self, make_user):
        user = make_user(phone="+44 (0)20 7946 0958")
        assert User.objects.filter(pk=user.pk).values_list("phone", flat=True).get() == "+442079460958"

    def test_a_verified_number_belongs_to_one_account(self, make_user):
        from django.db import IntegrityError, transaction

        verified(make_user())
        with pytest.raises(IntegrityError), transaction.atomic():
            verified(make_user())

    def test_a_verification_time_needs_a_number(self, make_user):
        from django.db import IntegrityError, transaction

        user = make_user()
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(phone_verified_at=timezone.now())


def test_an_unknown_default_region_stops_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PHONE_DEFAULT_REGION": "XX"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PHONE_DEFAULT_REGION" in result.stderr
