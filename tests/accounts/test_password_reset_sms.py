"""Password reset by text message, beside the emailed link.

`POST auth/password/reset/` with `{"phone"}` answers 202 whatever the number; when an active account
with a password has verified that number, a six-digit code goes to it by SMS (made at send time, kept
as a keyed hash, masked in the stored copy of the message). Not when the account signs in with text
message codes: the phone alone would then be both factors, so that request is refused and audited.

`POST auth/password/reset/confirm/` with `{"phone", "code", "new_password"}` sets the password and
ends every session. A code is good for five minutes from sending and five tries, works once, and is
replaced by asking again. Every refusal is the same 400 on `code`, so the endpoint does not tell
which numbers have accounts. Requests are throttled per IP address and number, confirmations per IP
address.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuthSession, SMSCode, TwoFactor, User
from apps.accounts.throttles import PasswordResetCodeFailureBudget
from apps.accounts.tokens import sms_code_hash
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from apps.notifications.rendering import MASK
from apps.notifications.sms import outbox
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
LOGIN = "/api/v1/auth/login/"
MOBILE = "+447911123456"  # a valid UK mobile number, in E.164
OTHER_MOBILE = "+447400123456"
NEW_PASSWORD = "a-brand-new-passphrase-42"
IP = "198.51.100.7"
REFUSED = {"code": ["This code is wrong or has expired; ask for a new one."]}


def verified(user, phone=MOBILE, *, hours_ago=48) -> User:
    """`user` with `phone` verified `hours_ago` (by default, long enough to reset the password)."""
    user.phone, user.phone_verified_at = phone, timezone.now() - timedelta(hours=hours_ago)
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def sms_second_factor(user) -> TwoFactor:
    return TwoFactor.objects.create(user=user, sms_enabled_at=timezone.now())


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def ask(api, django_capture_on_commit_callbacks):
    """`ask(phone)`: an anonymous caller asks for a reset code; the request's transaction commits,
    the eager task looks the number up and the SMS, if any, is delivered."""

    def ask(phone=MOBILE, ip=IP, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return api().post(RESET, {"phone": phone, **extra}, REMOTE_ADDR=ip)

    return ask


@pytest.fixture
def confirm(api):
    """`confirm(code)`: an anonymous caller sets a new password with a texted code."""

    def confirm(code, phone=MOBILE, new_password=NEW_PASSWORD, ip=IP, **extra):
        body = {"phone": phone, "code": code, "new_password": new_password, **extra}
        return api().post(CONFIRM, body, REMOTE_ADDR=ip)

    return confirm


@pytest.fixture
def texted(ask):
    """`texted(user)`: the code a reset request for the user's verified number brought."""

    def texted(user) -> str:
        assert ask(str(user.phone)).status_code == 202
        return code_in(outbox[-1])

    return texted


def login(api, email, password):
    return api().post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR="203.0.113.9")


def refused(response) -> bool:
    """Whether `response` is the one refusal every bad confirmation gets."""
    body = response.json()
    return (response.status_code, body["code"], body["field_errors"]) == (400, "validation_error", REFUSED)


def without_request_id(response) -> dict:
    return {key: value for key, value in response.json().items() if key != "request_id"}


def the_code() -> SMSCode:
    return SMSCode.objects.get(purpose=SMSCode.Purpose.PASSWORD_RESET)


# --- asking for a code ----------------------------------------------------------------------------------
class TestAskingForACode:
    def test_a_verified_number_gets_a_six_digit_code_by_sms(self, ask, make_user):
        verified(make_user())
        response = ask()
        assert response.status_code == 202
        [message] = outbox
        assert message.to == MOBILE
        assert re.fullmatch(
            r"\d{6} is your Backend password reset code\. It expires in 5 minutes\. "
            r"If you did not ask for it, ignore this message\.",
            message.body,
        )

    @pytest.mark.parametrize("typed", ["+44 7911 123456", "07911 123456", "0044 7911 123456"])
    def test_any_spelling_of_the_number_finds_the_account(self, ask, make_user, typed):
        verified(make_user())
        assert ask(typed).status_code == 202
        assert [message.to for message in outbox] == [MOBILE]

    def test_only_a_keyed_hash_of_the_code_is_kept(self, ask, make_user):
        user = verified(make_user())
        ask()
        code = code_in(outbox[0])
        sms_code = the_code()
        assert (sms_code.user_id, str(sms_code.phone)) == (user.pk, MOBILE)
        assert sms_code.code_hash == sms_code_hash(sms_code, code) != code

    def test_the_code_is_good_for_five_minutes_from_when_it_is_sent(self, ask, make_user, settings):
        assert settings.SMS_CODE_MINUTES == 5
        verified(make_user())
        ask()
        sms_code = the_code()
        assert sms_code.expires_at - sms_code.sent_at == timedelta(minutes=5)

    def test_the_stored_message_masks_the_code(self, ask, make_user):
        verified(make_user())
        ask()
        code = code_in(outbox[0])
        notification = Notification.objects.get(key="password_reset_code")
        assert (notification.channel, notification.status, notification.address) == ("sms", "sent", MOBILE)
        assert code not in notification.body and MASK in notification.body
        assert code not in str(notification.context)

    def test_the_request_is_audited_without_the_code(self, ask, make_user):
        user = verified(make_user())
        ask()
        entry = AuditLog.objects.get(action="user.password_reset_request")
        assert (entry.actor_id, entry.target_id, entry.ip) == (None, str(user.pk), IP)
        assert entry.changes == {"channel": [None, "sms"]}  # and so no code

    def test_asking_again_replaces_the_earlier_code(self, ask, confirm, make_user):
        user = verified(make_user())
        ask()
        ask()
        first, second = (code_in(message) for message in outbox)
        assert SMSCode.objects.filter(user=user, purpose=SMSCode.Purpose.PASSWORD_RESET).count() == 1
        if first != second:  # one in a million: the same six digits twice
            assert refused(confirm(first))
        assert confirm(second).status_code == 204

    def test_an_account_whose_second_factor_is_not_sms_gets_the_code(self, ask, make_user):
        user = verified(make_user())
        TwoFactor.objects.create(user=user)  # set up once, no text message codes
        assert ask().status_code == 202
        assert [message.to for message in outbox] == [MOBILE]


class TestNoCodeIsSent:
    """Each of these answers exactly as a number with an account does, and texts nothing."""

    def assert_nothing_sent(self, response):
        assert response.status_code == 202
        assert response.content == b""
        assert outbox == []
        assert not SMSCode.objects.exists()

    def test_to_an_unknown_number(self, ask, make_user):
        verified(make_user(), OTHER_MOBILE)
        self.assert_nothing_sent(ask())

    def test_to_a_number_typed_in_but_never_verified(self, ask, make_user):
        make_user(phone=MOBILE)
        self.assert_nothing_sent(ask())

    def test_to_an_inactive_account(self, ask, make_user):
        verified(make_user(is_active=False))
        self.assert_nothing_sent(ask())

    def test_to_an_account_without_a_password(self, ask, make_user):
        user = verified(make_user())
        user.set_unusable_password()
        user.save(update_fields=["password"])
        self.assert_nothing_sent(ask())

    def test_to_an_account_that_signs_in_with_text_message_codes(self, ask, make_user):
        user = verified(make_user())
        sms_second_factor(user)
        self.assert_nothing_sent(ask())

    def test_the_refusal_for_sms_two_factor_is_audited(self, ask, make_user):
        user = verified(make_user())
        sms_second_factor(user)
        ask()
        entry = AuditLog.objects.get(action="user.password_reset_request")
        assert (entry.actor_id, entry.target_id, entry.ip) == (None, str(user.pk), IP)
        assert entry.changes == {"channel": [None, "sms"], "refused": [None, "sms is the second factor"]}

    def test_an_unknown_number_leaves_no_audit_entry(self, ask):
        ask()
        assert not AuditLog.objects.filter(action="user.password_reset_request").exists()


class TestMalformedRequests:
    def test_a_phone_and_an_email_together_are_400_and_send_nothing(self, ask, make_user):
        verified(make_user(email="ada@example.com"))
        response = ask(email="ada@example.com")
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["non_field_errors"]
        assert outbox == []

    @pytest.mark.parametrize("extra", [{"uid": "MQ"}, {"token": "abc-def"}, {"email": "ada@example.com"}])
    def test_a_confirmation_with_a_phone_and_a_links_fields_is_400(self, confirm, extra):
        response = confirm("123456", **extra)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["non_field_errors"]

    @pytest.mark.parametrize("typed", ["call me", "+44 12", ""])
    def test_an_invalid_number_is_400_on_phone(self, ask, typed):
        response = ask(typed)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["phone"]

    @pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456, None])
    def test_anything_but_six_digits_is_400_on_code_and_costs_no_try(self, texted, confirm, make_user, code):
        texted(verified(make_user()))
        response = confirm(code)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["code"]
        assert the_code().attempts == 0


# --- setting the new password ---------------------------------------------------------------------------
class TestSettingANewPassword:
    def test_the_code_sets_the_new_password(self, api, texted, confirm, make_user):
        user = verified(make_user(email="ada@example.com"))
        assert confirm(texted(user)).status_code == 204
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert login(api, "ada@example.com", NEW_PASSWORD).status_code == 200
        assert login(api, "ada@example.com", DEFAULT_PASSWORD).status_code == 401

    def test_every_earlier_session_ends(self, api, texted, confirm, make_user, sign_in, token_answers):
        user = verified(make_user(email="ada@example.com"))
        phone_tokens = sign_in(user)
        laptop_tokens = login(api, "ada@example.com", DEFAULT_PASSWORD).json()
        confirm(texted(user))
        assert token_answers(phone_tokens) == {"access": 401, "refresh": 401}
        assert token_answers(laptop_tokens) == {"access": 401, "refresh": 401}
        sessions = AuthSession.objects.filter(user=user)
        assert sessions.count() == 2
        assert set(sessions.values_list("end_reason", flat=True)) == {AuthSession.EndReason.PASSWORD_RESET}

    def test_a_session_started_after_the_reset_works(self, api, texted, confirm, make_user, token_answers):
        user = verified(make_user(email="ada@example.com"))
        confirm(texted(user))
        tokens = login(api, "ada@example.com", NEW_PASSWORD).json()
        assert token_answers(tokens) == {"access": 200, "refresh": 200}

    def test_the_number_may_be_typed_in_any_spelling(self, texted, confirm, make_user):
        user = verified(make_user())
        assert confirm(texted(user), phone="07911 123456").status_code == 204

    def test_the_code_works_once(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        assert confirm(code).status_code == 204
        again = confirm(code, new_password="yet-another-passphrase-7")
        assert refused(again)
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert the_code().used_at is not None

    def test_the_reset_is_audited_with_its_channel_and_without_the_code(self, texted, confirm, make_user):
        user = verified(make_user())
        confirm(texted(user))
        entry = AuditLog.objects.get(action="user.password_reset")
        assert (entry.actor_id, entry.target_id, entry.ip) == (user.pk, str(user.pk), IP)
        assert entry.changes == {"channel": [None, "sms"]}

    def test_a_texted_code_proves_the_number_not_the_email_address(self, texted, confirm, make_user):
        user = verified(make_user())
        assert user.email_verified_at is None
        confirm(texted(user))
        user.refresh_from_db()
        assert user.email_verified_at is None

    def test_a_weak_new_password_is_400_on_new_password_and_costs_no_try(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        response = confirm(code, new_password="12345678")
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["new_password"]
        assert the_code().attempts == 0
        assert confirm(code).status_code == 204, "the code still works"

    def test_a_refusal_changes_nothing(self, texted, confirm, make_user, sign_in, token_answers):
        user = verified(make_user())
        tokens = sign_in(user)
        code = texted(user)
        confirm(other_than(code))
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)
        assert token_answers(tokens) == {"access": 200, "refresh": 200}
        assert not AuditLog.objects.filter(action="user.password_reset").exists()


class TestTries:
    def test_a_wrong_code_is_refused_and_counts_a_try(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        response = confirm(other_than(code))
        assert refused(response)
        assert the_code().attempts == 1

    def test_the_right_code_on_the_fifth_try_still_works(self, texted, confirm, make_user):
        code = texted(verified(make_user()))
        for n in range(4):
            assert confirm(other_than(code), ip=f"192.0.2.{n}").status_code == 400
        assert confirm(code, ip="192.0.2.99").status_code == 204

    def test_after_five_wrong_tries_the_right_code_is_refused(self, texted, confirm, make_user):
        """Each try from another address, so the confirmation throttle (per IP) is not what stops it."""
        user = verified(make_user())
        code = texted(user)
        for n in range(5):
            assert refused(confirm(other_than(code), ip=f"192.0.2.{n}"))
        sixth = confirm(code, ip="192.0.2.99")
        assert refused(sixth)
        assert the_code().attempts == 5, "a dead code counts nothing more"
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_a_new_code_brings_new_tries(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        for n in range(5):
            confirm(other_than(code), ip=f"192.0.2.{n}")
        assert confirm(texted(user), ip="192.0.2.99").status_code == 204

    def test_an_expired_code_is_refused(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        SMSCode.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = confirm(code)
        assert refused(response)
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_six_minutes_after_sending_the_code_has_expired(self, texted, confirm, make_user, monkeypatch):
        code = texted(verified(make_user()))
        six_minutes_on = timezone.now() + timedelta(minutes=6)
        monkeypatch.setattr(timezone, "now", lambda: six_minutes_on)
        assert refused(confirm(code))

    def test_four_minutes_after_sending_the_code_still_works(self, texted, confirm, make_user, monkeypatch):
        code = texted(verified(make_user()))
        four_minutes_on = timezone.now() + timedelta(minutes=4)
        monkeypatch.setattr(timezone, "now", lambda: four_minutes_on)
        assert confirm(code).status_code == 204

    def test_a_code_dies_when_the_account_changes_its_number(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        verified(user, OTHER_MOBILE)
        assert refused(confirm(code, phone=OTHER_MOBILE))
        assert refused(confirm(code, phone=MOBILE, ip="192.0.2.1"))


class TestOneAnswerForEveryRefusal:
    """Whatever the reason, a refusal reads the same: the endpoint must not tell which numbers have
    accounts, nor whether a code was ever sent."""

    def test_an_unknown_number_reads_like_a_wrong_code(self, texted, confirm, make_user):
        code = texted(verified(make_user()))
        wrong_code = confirm(other_than(code), ip="192.0.2.1")
        unknown_number = confirm(code, phone=OTHER_MOBILE, ip="192.0.2.2")
        assert refused(wrong_code) and refused(unknown_number)
        assert without_request_id(wrong_code) == without_request_id(unknown_number)

    @pytest.mark.parametrize(
        "situation", ["unknown", "unverified", "inactive", "sms_two_factor", "never_asked", "used", "expired"]
    )
    def test_every_refusal_is_the_same_400(self, texted, confirm, make_user, situation):
        user = make_user()
        code = "123456"
        if situation == "unverified":
            user.phone = MOBILE
            user.save(update_fields=["phone"])
        elif situation in ("inactive", "sms_two_factor", "never_asked"):
            verified(user)
            if situation == "inactive":
                User.objects.filter(pk=user.pk).update(is_active=False)
            elif situation == "sms_two_factor":
                sms_second_factor(user)
        elif situation in ("used", "expired"):
            code = texted(verified(user))
            if situation == "used":
                confirm(code, ip="192.0.2.1")
            else:
                SMSCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = confirm(code, new_password="another-long-passphrase-3")
        assert refused(response)

    def test_a_weak_password_reads_the_same_whether_or_not_the_number_has_an_account(
        self, texted, confirm, make_user
    ):
        """The password is checked before the code, so that a weak one costs no try. A number without
        an account must then answer a weak password the same way, or a weak password tells which
        numbers have accounts without spending any try."""
        verified(make_user())
        with_account = confirm("123456", phone=MOBILE, new_password="12345678", ip="192.0.2.1")
        without_account = confirm("123456", phone=OTHER_MOBILE, new_password="12345678", ip="192.0.2.2")
        assert with_account.status_code == without_account.status_code == 400
        assert without_request_id(with_account) == without_request_id(without_account)


# --- throttling -----------------------------------------------------------------------------------------
class TestThrottling:
    def test_requests_are_limited_per_address_and_number(self, ask, make_user):
        verified(make_user())
        statuses = [ask().status_code for _ in range(6)]
        assert statuses == [202] * 5 + [429]
        assert len(outbox) == 5
        assert ask(OTHER_MOBILE).status_code == 202, "another number has its own budget"
        assert ask(ip="203.0.113.50").status_code == 202, "another address has its own budget"

    def test_a_throttled_request_sends_nothing(self, ask, make_user):
        verified(make_user())
        for _ in range(5):
            ask()
        outbox.clear()
        response = ask()
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 3600
        assert outbox == []

    @pytest.mark.parametrize(
        "spelling", ["+44 7911 123456", "+44-7911-123456", "07911 123456", "0044 7911 123456"]
    )
    def test_spellings_of_one_number_share_a_budget(self, ask, spelling):
        for _ in range(5):
            assert ask(MOBILE).status_code == 202
        assert ask(spelling).status_code == 429

    def test_confirmations_are_limited_per_address_whatever_number_they_name(self, confirm):
        statuses = [
            confirm(
                "123456", phone=f"+4479111234{n:02d}", new_password="another-long-passphrase-3"
            ).status_code
            for n in range(6)
        ]
        assert statuses == [400] * 5 + [429]
        assert confirm("123456", ip="203.0.113.50").status_code == 400, "another address has its own budget"

    def test_the_right_code_waits_once_the_address_is_throttled(self, texted, confirm, make_user):
        user = verified(make_user())
        code = texted(user)
        for _ in range(5):
            confirm("123456" if code != "123456" else "654321", phone=OTHER_MOBILE)
        assert confirm(code).status_code == 429
        assert the_code().attempts == 0, "the throttled try never reached the code"
        assert confirm(code, ip="203.0.113.50").status_code == 204

    def test_request_and_confirmation_budgets_are_separate(self, ask, confirm, make_user):
        verified(make_user())
        for _ in range(5):
            ask()
        assert ask().status_code == 429
        assert confirm(code_in(outbox[-1])).status_code == 204


# --- the account's budget of refused codes --------------------------------------------------------------
@pytest.fixture
def three_refusals_an_account(monkeypatch):
    monkeypatch.setattr(PasswordResetCodeFailureBudget, "rate", "3/hour", raising=False)


class TestAccountBudget:
    """Beside five tries per code and five confirmations per address, refused codes are counted per
    account (THROTTLE_PASSWORD_RESET_CODE_FAILURES_RATE): guessers spread over many addresses, each
    asking for fresh codes, otherwise never run out. Past the budget even the right code gets the
    same 400 as any refusal, not a 429, which a number without an account would never get."""

    def test_past_the_budget_even_the_right_code_is_refused(
        self, texted, confirm, make_user, three_refusals_an_account
    ):
        user = verified(make_user())
        code = texted(user)
        confirm(other_than(code), ip="192.0.2.1")
        code = texted(user)  # a new code brings new tries, but not a new account budget
        confirm(other_than(code), ip="192.0.2.2")
        confirm(other_than(code), ip="192.0.2.3")
        response = confirm(code, ip="192.0.2.4")
        assert refused(response)
        assert the_code().attempts == 2, "the right code was not even tried"
        assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)

    def test_the_refusal_reads_like_a_wrong_code(self, texted, confirm, make_user, three_refusals_an_account):
        code = texted(verified(make_user()))
        wrong = [confirm(other_than(code), ip=f"192.0.2.{n}") for n in range(3)]
        past_budget = confirm(code, ip="192.0.2.9")
        assert without_request_id(past_budget) == without_request_id(wrong[0])

    def test_another_account_has_its_own_budget(self, texted, confirm, make_user, three_refusals_an_account):
        code = texted(verified(make_user()))
        for n in range(3):
            confirm(other_than(code), ip=f"192.0.2.{n}")
        other_code = texted(verified(make_user(), OTHER_MOBILE))
        assert confirm(other_code, phone=OTHER_MOBILE, ip="192.0.2.9").status_code == 204

    def test_the_right_code_is_not_a_refusal(self, texted, confirm, make_user, three_refusals_an_account):
        user = verified(make_user())
        for n in range(4):
            assert (
                confirm(texted(user), ip=f"192.0.2.{n}", new_password=f"{NEW_PASSWORD}-{n}").status_code
                == 204
            )


# --- the same work whether or not the number has an account --------------------------------------------
@pytest.fixture
def hashes(monkeypatch):
    """The passwords hashed (the test settings' hasher), in order."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    hashed = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher,
        "encode",
        lambda self, password, salt: hashed.append(password) or original(self, password, salt),
    )
    return hashed


class TestSameWork:
    """A confirmation for a number with an account must not take longer than one for a number
    without: the time of the answer would tell them apart. What can be checked without a clock is
    that both do the same work."""

    @pytest.mark.parametrize("number", [MOBILE, OTHER_MOBILE], ids=["with an account", "without one"])
    def test_the_new_password_is_hashed_once_either_way(self, confirm, make_user, hashes, number):
        verified(make_user())
        hashes.clear()
        assert refused(confirm("123456", phone=number))
        assert hashes == [NEW_PASSWORD]

    def test_a_right_code_stores_that_one_hash(self, texted, confirm, make_user, hashes):
        user = verified(make_user())
        code = texted(user)
        hashes.clear()
        assert confirm(code).status_code == 204
        assert hashes == [NEW_PASSWORD]
        assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)

    def test_the_same_queries_either_way(self, confirm, make_user):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        verified(make_user())
        queries = {}
        for number in (MOBILE, OTHER_MOBILE):
            with CaptureQueriesContext(connection) as captured:
                assert refused(confirm("123456", phone=number, ip=f"192.0.2.{len(queries)}"))
            # The statements, less their values and savepoint names.
            queries[number] = [
                re.sub(r'"s\d+_x\d+"', "", query["sql"].split(" WHERE ")[0]) for query in captured
            ]
        assert queries[MOBILE] == queries[OTHER_MOBILE]
        assert any('FROM "accounts_smscode"' in sql for sql in queries[OTHER_MOBILE])
