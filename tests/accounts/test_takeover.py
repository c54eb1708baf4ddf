"""A stolen access token must not become the account.

With the access token alone, a caller could once add a number of their own at `users/me/phone/`,
verify it, and reset the password with a code texted to it, the owner told nothing. Now adding or
changing a number takes the password; the owner hears of a new number (by email, and on the
number it replaced), of a password change and of a reset; and a number verified less than
PHONE_RESET_COOLING_OFF_HOURS ago resets no password: its reset request is answered like an
unknown number's, and a code for it is refused.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import SMSCode, User
from apps.accounts.tokens import sms_code_hash
from apps.logs.models import AuditLog
from apps.notifications.sms import outbox
from tests.accounts.factories import phone_verification_with_code, phone_verifications
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

PHONE = "/api/v1/users/me/phone/"
VERIFY = "/api/v1/users/me/phone/verify/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
PASSWORD_CHANGE = "/api/v1/auth/password/change/"
LOGIN = "/api/v1/auth/login/"
OWNERS = "+447911123456"
THIEFS = "+447400123456"
NEW_PASSWORD = "a-brand-new-passphrase-42"
REFUSED = {"code": ["This code is wrong or has expired; ask for a new one."]}


@pytest.fixture
def owner(make_user):
    return make_user(email="owner@example.com", full_name="Ada Owner", email_verified_at=timezone.now())


def verified(user, phone=OWNERS, *, hours_ago=48) -> User:
    user.phone, user.phone_verified_at = phone, timezone.now() - timedelta(hours=hours_ago)
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def pending(user, phone=THIEFS, code="123456") -> SMSCode:
    """A live verification of `phone` for `user` whose texted code is `code`."""
    return phone_verification_with_code(user, phone=phone, code=code)


def reset_code(user, code="654321") -> SMSCode:
    """A live password reset code for the user's number, as if texted just now."""
    now = timezone.now()
    sms_code = SMSCode.objects.create(
        user=user,
        purpose=SMSCode.Purpose.PASSWORD_RESET,
        phone=user.phone,
        expires_at=now + timedelta(minutes=5),
        sent_at=now,
    )
    sms_code.code_hash = sms_code_hash(sms_code, code)
    sms_code.save(update_fields=["code_hash"])
    return sms_code


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


class TestTheReportedTakeover:
    def test_the_access_token_alone_cannot_ask_for_a_code_for_a_number(self, api, owner, deliver):
        response = deliver(lambda: api(owner).post(PHONE, {"phone": THIEFS}))
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["password"]
        assert outbox == [] and not phone_verifications().exists()

    def test_a_wrong_password_is_400_on_password_and_sends_nothing(self, api, owner, deliver):
        response = deliver(lambda: api(owner).post(PHONE, {"phone": THIEFS, "password": "a-good-guess-1"}))
        assert response.status_code == 400
        assert response.json()["field_errors"] == {"password": ["Your password is wrong."]}
        assert outbox == [] and not phone_verifications().exists()

    def test_with_the_password_the_code_goes_to_the_number(self, api, owner, deliver):
        response = deliver(lambda: api(owner).post(PHONE, {"phone": THIEFS, "password": DEFAULT_PASSWORD}))
        assert response.status_code == 202
        assert [message.to for message in outbox] == [THIEFS]

    def test_a_number_verified_just_now_resets_no_password(self, api, owner, deliver):
        pending(owner)
        assert api(owner).post(VERIFY, {"code": "123456"}).status_code == 200
        outbox.clear()
        response = deliver(lambda: api().post(RESET, {"phone": THIEFS}))
        assert response.status_code == 202
        assert outbox == [], "answered as for an unknown number: nothing is texted"
        entry = AuditLog.objects.get(action="user.password_reset_request")
        assert entry.changes["refused"] == [None, "number verified lately"]

    def test_a_code_for_a_number_verified_just_now_is_refused(self, api, owner):
        verified(owner, THIEFS, hours_ago=0)
        reset_code(owner)
        body = {"phone": THIEFS, "code": "654321", "new_password": NEW_PASSWORD}
        response = api().post(RESET_CONFIRM, body)
        assert (response.status_code, response.json()["field_errors"]) == (400, REFUSED)
        owner.refresh_from_db()
        assert owner.check_password(DEFAULT_PASSWORD)
        # The very same code works once the number has been the account's for the cooling-off.
        verified(owner, THIEFS, hours_ago=25)
        assert api().post(RESET_CONFIRM, body).status_code == 204

    def test_after_the_cooling_off_the_number_resets_the_password(self, api, owner, deliver):
        verified(owner, hours_ago=25)
        assert deliver(lambda: api().post(RESET, {"phone": OWNERS})).status_code == 202
        assert [message.to for message in outbox] == [OWNERS]

    def test_the_cooling_off_is_a_setting(self, api, owner, deliver, settings):
        settings.PHONE_RESET_COOLING_OFF_HOURS = 1
        verified(owner, hours_ago=2)
        deliver(lambda: api().post(RESET, {"phone": OWNERS}))
        assert [message.to for message in outbox] == [OWNERS]


class TestTheOwnerIsTold:
    def test_a_new_number_is_emailed_with_the_old_one_and_the_old_number_is_texted(self, api, owner, deliver):
        verified(owner)
        pending(owner)
        assert deliver(lambda: api(owner).post(VERIFY, {"code": "123456"})).status_code == 200
        [email] = emails_to("owner@example.com")
        assert email.subject == "The phone number of your Backend account changed"
        assert THIEFS in email.body and OWNERS in email.body
        assert "24 hours" in email.body
        [text] = outbox
        assert text.to == OWNERS, "the number that stops receiving the codes is told too"
        assert "no longer gets its codes" in text.body

    def test_the_text_to_the_old_number_keeps_to_its_budget_and_the_email_still_goes(
        self, api, owner, deliver, monkeypatch
    ):
        from apps.notifications.sms_budget import sms_budget_take
        from apps.notifications.throttles import SMSNumberBudget

        monkeypatch.setattr(SMSNumberBudget, "rate", "1/hour", raising=False)
        verified(owner)
        sms_budget_take(OWNERS)  # the old number's budget is spent
        pending(owner)
        assert deliver(lambda: api(owner).post(VERIFY, {"code": "123456"})).status_code == 200
        assert outbox == []
        assert len(emails_to("owner@example.com")) == 1

    def test_a_first_number_is_emailed_and_texts_nobody(self, api, owner, deliver):
        pending(owner)
        deliver(lambda: api(owner).post(VERIFY, {"code": "123456"}))
        [email] = emails_to("owner@example.com")
        assert THIEFS in email.body
        assert outbox == []

    def test_an_unverified_old_number_is_not_texted(self, api, make_user, deliver):
        user = make_user(phone=OWNERS)  # typed in by staff, never verified
        pending(user)
        deliver(lambda: api(user).post(VERIFY, {"code": "123456"}))
        assert outbox == []
        assert len(mail.outbox) == 1

    def test_removing_the_number_is_emailed_and_texted_to_it(self, api, owner, deliver):
        verified(owner)
        assert deliver(lambda: api(owner).patch("/api/v1/users/me/", {"phone": ""})).status_code == 200
        [email] = emails_to("owner@example.com")
        assert f"the phone number {OWNERS} was removed" in email.body
        assert [text.to for text in outbox] == [OWNERS]

    def test_a_password_change_is_emailed(self, api, owner, deliver):
        body = {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
        assert deliver(lambda: api(owner).post(PASSWORD_CHANGE, body)).status_code == 200
        [email] = emails_to("owner@example.com")
        assert email.subject == "The password of your Backend account changed"
        assert "changed by someone signed in to it" in email.body

    def test_a_reset_by_text_message_is_emailed_with_the_number(self, api, owner, deliver):
        verified(owner)
        reset_code(owner)
        body = {"phone": OWNERS, "code": "654321", "new_password": NEW_PASSWORD}
        assert deliver(lambda: api().post(RESET_CONFIRM, body)).status_code == 204
        [email] = emails_to("owner@example.com")
        assert f"reset with a code texted to {OWNERS}" in email.body

    def test_a_reset_by_the_emailed_link_is_emailed(self, api, owner, deliver):
        deliver(lambda: api().post(RESET, {"email": "owner@example.com"}))
        link = re.search(r"reset-password\?uid=(\S+)&token=(\S+)", mail.outbox[0].body)
        mail.outbox.clear()
        body = {"uid": link.group(1), "token": link.group(2), "new_password": NEW_PASSWORD}
        assert deliver(lambda: api().post(RESET_CONFIRM, body)).status_code == 204
        [email] = emails_to("owner@example.com")
        assert "reset with a link sent to this address" in email.body

    def test_a_refused_reset_tells_nobody(self, api, owner, deliver):
        verified(owner)
        reset_code(owner)
        body = {"phone": OWNERS, "code": "000000", "new_password": NEW_PASSWORD}
        assert deliver(lambda: api().post(RESET_CONFIRM, body)).status_code == 400
        assert mail.outbox == []
