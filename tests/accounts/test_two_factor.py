"""Two-factor sign-in: a stolen password alone no longer opens an account that turned it on.

Enrolment (`auth/2fa/...`) turns on an authenticator app (TOTP) or SMS codes, and brings ten
single-use recovery codes. Sign-in with the right password then answers an `mfa_token` instead of
tokens; `auth/login/verify/` finishes it with a code. Staff can be required to have it on
(REQUIRE_2FA_FOR_STAFF). The clock is frozen: codes are computed for exact 30-second steps.
"""

import re
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pyotp
import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, RecoveryCode, TwoFactor, TwoFactorChallenge
from apps.analytics.models import LoginEvent
from apps.core.encryption import decrypt
from apps.logs.models import AuditLog
from apps.notifications.models import Notification
from apps.notifications.rendering import MASK
from apps.notifications.sms import outbox
from tests.accounts.test_password_reset_sms import other_than
from tests.accounts.test_phone import MOBILE, verified
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

STATUS = "/api/v1/auth/2fa/"
SETUP = "/api/v1/auth/2fa/totp/setup/"
CONFIRM = "/api/v1/auth/2fa/totp/confirm/"
SMS_CODE = "/api/v1/auth/2fa/sms/code/"
SMS_ENABLE = "/api/v1/auth/2fa/sms/enable/"
RECOVERY = "/api/v1/auth/2fa/recovery-codes/"
DISABLE = "/api/v1/auth/2fa/disable/"
LOGIN = "/api/v1/auth/login/"
LOGIN_SMS = "/api/v1/auth/login/sms/"
VERIFY = "/api/v1/auth/login/verify/"
ME = "/api/v1/users/me/"
PHONE = "/api/v1/users/me/phone/"
OTHER_MOBILE = "+447400123456"
START = datetime(2026, 12, 2, 9, 0, 0, tzinfo=UTC)  # on a step boundary: 09:00:00


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)

    def code(self, secret: str, steps: int = 0) -> str:
        """The authenticator app's code at this moment, `steps` steps of 30 s away."""
        return pyotp.TOTP(secret).at(self.now.timestamp() + 30 * steps)


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def password_login(user) -> dict:
    response = APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def verify(mfa_token: str, code: str):
    return APIClient().post(VERIFY, {"mfa_token": mfa_token, "code": code}, format="json")


def texted_code() -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


@pytest.fixture
def with_totp(api, clock, deliver):
    """`with_totp(user)`: the user turns the app on; (secret, recovery codes). The clock then
    moves one step on, so the next code is not the one just used."""

    def enrol(user):
        client = api(user)
        secret = client.post(SETUP).json()["secret"]
        response = deliver(
            lambda: client.post(CONFIRM, {"code": clock.code(secret), "password": DEFAULT_PASSWORD})
        )
        assert response.status_code == 200, response.content
        clock.advance(seconds=30)
        return secret, response.json()["recovery_codes"]

    return enrol


@pytest.fixture
def with_sms(api, deliver):
    """`with_sms(user)`: the user, with a verified number, turns on SMS codes (`current_code`: of
    the app, when it is on)."""

    def enrol(user, current_code=""):
        verified(user)
        client = api(user)
        assert deliver(lambda: client.post(SMS_CODE)).status_code == 202
        body = {"code": texted_code(), "password": DEFAULT_PASSWORD, "current_code": current_code}
        response = deliver(lambda: client.post(SMS_ENABLE, body))
        assert response.status_code == 200, response.content
        outbox.clear()
        return response.json()

    return enrol


# --- Enrolment ------------------------------------------------------------------------------------------
class TestSettingUpAnAuthenticatorApp:
    def test_setup_gives_a_secret_its_uri_and_a_qr_code(self, api, make_user, clock):
        user = make_user(email="ada@example.com")
        body = api(user).post(SETUP).json()
        assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
        assert body["provisioning_uri"].startswith("otpauth://totp/")
        assert "ada%40example.com" in body["provisioning_uri"]
        assert f"secret={body['secret']}" in body["provisioning_uri"]
        assert body["qr_code"].startswith("data:image/svg+xml")

    def test_nothing_is_on_until_a_code_confirms_it(self, api, make_user, clock):
        user = make_user()
        api(user).post(SETUP)
        assert api(user).get(STATUS).json()["enabled"] is False
        assert "access" in password_login(user)

    def test_the_secret_is_stored_encrypted(self, api, make_user, clock):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        stored = TwoFactor.objects.get(user=user).totp_pending_secret
        assert secret not in stored
        assert decrypt(stored) == secret

    def test_a_right_code_turns_it_on_with_ten_recovery_codes(self, api, make_user, clock, deliver):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        body = {"code": clock.code(secret), "password": DEFAULT_PASSWORD}
        response = deliver(lambda: api(user).post(CONFIRM, body))
        assert response.status_code == 200
        body = response.json()
        assert body["status"]["enabled"] is True
        assert body["status"]["methods"] == ["totp", "recovery"]
        assert len(set(body["recovery_codes"])) == 10
        assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in body["recovery_codes"])
        assert RecoveryCode.objects.filter(user=user).count() == 10
        assert not RecoveryCode.objects.filter(code_hash__in=body["recovery_codes"]).exists()

    def test_turning_it_on_is_audited_and_emailed(self, make_user, with_totp):
        user = make_user()
        with_totp(user)
        entry = AuditLog.objects.get(action="user.two_factor_enable", target_id=str(user.pk))
        assert entry.changes == {"methods": [[], ["totp"]]}
        assert [message.subject for message in mail.outbox][-1].startswith("Two-factor sign-in is on")
        assert "authenticator app" in mail.outbox[-1].body

    def test_a_wrong_code_turns_nothing_on(self, api, make_user, clock):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        response = api(user).post(CONFIRM, {"code": clock.code(secret, steps=3)})
        assert response.status_code == 400
        assert "code" in response.json()["field_errors"]
        assert api(user).get(STATUS).json()["enabled"] is False

    def test_confirming_without_a_setup_is_400(self, api, make_user, clock):
        assert api(make_user()).post(CONFIRM, {"code": "123456"}).status_code == 400

    @pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "", None])
    def test_a_malformed_code_is_400(self, api, make_user, code):
        assert api(make_user()).post(CONFIRM, {"code": code}, format="json").status_code == 400

    def test_a_second_app_cannot_replace_the_first_without_turning_2fa_off(self, api, make_user, with_totp):
        user = make_user()
        with_totp(user)
        assert api(user).post(SETUP).status_code == 409


class TestTurningOnSMSCodes:
    def test_needs_a_verified_phone(self, api, make_user, deliver):
        user = make_user(phone=MOBILE)  # typed in, never verified
        assert deliver(lambda: api(user).post(SMS_CODE)).status_code == 400
        assert outbox == []

    def test_a_texted_code_turns_them_on(self, make_user, with_sms):
        body = with_sms(make_user())
        assert body["status"]["methods"] == ["sms", "recovery"]
        assert len(body["recovery_codes"]) == 10

    def test_the_code_goes_to_the_verified_number_and_is_masked_when_stored(self, api, make_user, deliver):
        user = verified(make_user())
        deliver(lambda: api(user).post(SMS_CODE))
        assert outbox[-1].to == MOBILE
        stored = Notification.objects.get(key="2fa_code", recipient=user)
        assert texted_code() not in stored.body
        assert MASK in stored.body

    def test_a_wrong_code_is_400_and_counts(self, api, make_user, deliver):
        user = verified(make_user())
        deliver(lambda: api(user).post(SMS_CODE))
        wrong = "000000" if texted_code() != "000000" else "111111"
        response = api(user).post(SMS_ENABLE, {"code": wrong, "password": DEFAULT_PASSWORD})
        assert response.status_code == 400
        assert "4 tries left" in response.json()["field_errors"]["code"][0]

    def test_already_on_is_409(self, api, make_user, with_sms, deliver):
        user = make_user()
        with_sms(user)
        deliver(lambda: api(user).post(SMS_CODE))
        body = {"code": texted_code(), "password": DEFAULT_PASSWORD}
        assert api(user).post(SMS_ENABLE, body).status_code == 409

    def test_a_second_method_brings_no_new_recovery_codes(self, make_user, with_totp, with_sms, clock):
        user = make_user()
        secret, _ = with_totp(user)
        body = with_sms(user, current_code=clock.code(secret))
        assert "recovery_codes" not in body
        assert body["status"]["methods"] == ["totp", "sms", "recovery"]


class TestChangesNeedTheOwner:
    """An access token alone adds no factor and moves no sign-in code: the password, and a current
    code of a factor that is on, come first (an enrolment mfa_token proved the password already:
    see TestStaffMustEnrol)."""

    def test_the_app_is_not_turned_on_with_the_access_token_alone(self, api, make_user, clock):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        response = api(user).post(CONFIRM, {"code": clock.code(secret)})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["password"]
        assert "recovery_codes" not in response.json()
        assert not RecoveryCode.objects.filter(user=user).exists()
        assert api(user).get(STATUS).json()["enabled"] is False

    def test_nor_with_a_wrong_password(self, api, make_user, clock):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        response = api(user).post(CONFIRM, {"code": clock.code(secret), "password": "a-good-guess-1"})
        assert response.json()["field_errors"] == {"password": ["Your password is wrong."]}
        assert api(user).get(STATUS).json()["enabled"] is False

    def test_while_sms_codes_are_on_the_app_also_needs_a_texted_code(
        self, api, make_user, clock, with_sms, deliver
    ):
        user = make_user()
        with_sms(user)
        client = api(user)
        secret = client.post(SETUP).json()["secret"]
        body = {"code": clock.code(secret), "password": DEFAULT_PASSWORD}
        missing = client.post(CONFIRM, body)
        assert list(missing.json()["field_errors"]) == ["current_code"]
        deliver(lambda: client.post(SMS_CODE))
        wrong = client.post(CONFIRM, {**body, "current_code": other_than(texted_code())})
        assert list(wrong.json()["field_errors"]) == ["current_code"]
        assert client.get(STATUS).json()["methods"] == ["sms", "recovery"]
        mail.outbox.clear()
        response = deliver(lambda: client.post(CONFIRM, {**body, "current_code": texted_code()}))
        assert response.status_code == 200
        assert response.json()["status"]["methods"] == ["totp", "sms", "recovery"]
        assert "recovery_codes" not in response.json()
        assert mail.outbox[-1].subject.startswith("Two-factor sign-in is on")

    def test_sms_codes_need_the_password_and_the_texted_code_survives_a_refusal(
        self, api, make_user, deliver
    ):
        user = verified(make_user())
        client = api(user)
        deliver(lambda: client.post(SMS_CODE))
        response = client.post(SMS_ENABLE, {"code": texted_code()})
        assert list(response.json()["field_errors"]) == ["password"]
        response = client.post(SMS_ENABLE, {"code": texted_code(), "password": DEFAULT_PASSWORD})
        assert response.status_code == 200

    def test_while_the_app_is_on_sms_codes_need_its_code_not_the_texted_one(
        self, api, make_user, with_totp, clock, deliver
    ):
        user = make_user()
        secret, _ = with_totp(user)
        verified(user)
        client = api(user)
        deliver(lambda: client.post(SMS_CODE))
        body = {"code": texted_code(), "password": DEFAULT_PASSWORD}
        assert list(client.post(SMS_ENABLE, body).json()["field_errors"]) == ["current_code"]
        # The texted code proves the phone, which is no factor yet: it cannot stand for one.
        itself = client.post(SMS_ENABLE, {**body, "current_code": texted_code()})
        assert list(itself.json()["field_errors"]) == ["current_code"]
        response = client.post(SMS_ENABLE, {**body, "current_code": clock.code(secret)})
        assert response.status_code == 200
        assert response.json()["status"]["methods"] == ["totp", "sms", "recovery"]

    def test_changing_the_number_sign_in_codes_go_to_needs_a_code_of_the_old_one(
        self, api, make_user, with_sms, deliver
    ):
        user = make_user(email_verified_at=timezone.now())
        with_sms(user)
        client = api(user)
        body = {"phone": OTHER_MOBILE, "password": DEFAULT_PASSWORD}
        refused = deliver(lambda: client.post(PHONE, body))
        assert refused.status_code == 400
        assert refused.json()["field_errors"] == {
            "code": [
                "Two-factor sign-in is on: also give a current code (the authenticator app's, one "
                "texted by auth/2fa/sms/code/, or a recovery code)."
            ]
        }
        assert outbox == []
        deliver(lambda: client.post(SMS_CODE))
        assert outbox[-1].to == MOBILE
        response = deliver(lambda: client.post(PHONE, {**body, "code": texted_code()}))
        assert response.status_code == 202
        assert outbox[-1].to == OTHER_MOBILE

    def test_a_recovery_code_will_do_and_a_refused_change_does_not_use_it_up(
        self, api, make_user, with_totp, deliver
    ):
        user = verified(make_user(email_verified_at=timezone.now()))
        _, codes = with_totp(user)
        body = {"phone": MOBILE, "password": DEFAULT_PASSWORD, "code": codes[0]}
        refused = deliver(lambda: api(user).post(PHONE, body))  # already the account's number
        assert (refused.status_code, list(refused.json()["field_errors"])) == (400, ["phone"])
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
        body["phone"] = OTHER_MOBILE
        assert deliver(lambda: api(user).post(PHONE, body)).status_code == 202
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9

    def test_a_code_texted_to_a_number_that_is_no_factor_does_not_turn_2fa_off(
        self, api, make_user, with_totp, deliver
    ):
        user = make_user()
        with_totp(user)
        verified(user)
        deliver(lambda: api(user).post(SMS_CODE))
        response = api(user).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": texted_code()})
        assert response.status_code == 400
        assert api(user).get(STATUS).json()["enabled"] is True


class TestRecoveryCodes:
    def test_new_codes_replace_the_old_ones(self, api, make_user, with_totp, clock):
        user = make_user()
        secret, old = with_totp(user)
        response = api(user).post(RECOVERY, {"password": DEFAULT_PASSWORD, "code": clock.code(secret)})
        assert response.status_code == 200
        new = response.json()["recovery_codes"]
        assert len(new) == 10 and not set(new) & set(old)
        assert verify(password_login(user)["mfa_token"], old[0]).status_code == 400
        assert verify(password_login(user)["mfa_token"], new[0]).status_code == 200

    def test_need_the_password(self, api, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        response = api(user).post(RECOVERY, {"password": "not-the-password", "code": clock.code(secret)})
        assert response.status_code == 400
        assert "password" in response.json()["field_errors"]

    def test_need_a_current_code_too(self, api, make_user, with_totp, clock):
        user = make_user()
        secret, old = with_totp(user)
        missing = api(user).post(RECOVERY, {"password": DEFAULT_PASSWORD})
        assert list(missing.json()["field_errors"]) == ["code"]
        wrong = api(user).post(RECOVERY, {"password": DEFAULT_PASSWORD, "code": clock.code(secret, steps=4)})
        assert wrong.json()["field_errors"] == {"code": ["This code is wrong."]}
        assert verify(password_login(user)["mfa_token"], old[0]).status_code == 200, "the old ones still work"

    def test_a_recovery_code_will_do_and_the_account_is_emailed(self, api, make_user, with_totp, deliver):
        user = make_user()
        _, old = with_totp(user)
        mail.outbox.clear()
        response = deliver(lambda: api(user).post(RECOVERY, {"password": DEFAULT_PASSWORD, "code": old[0]}))
        assert response.status_code == 200
        assert [message.subject for message in mail.outbox] == ["New recovery codes for your Backend account"]

    def test_need_2fa_on(self, api, make_user):
        response = api(make_user()).post(RECOVERY, {"password": DEFAULT_PASSWORD, "code": "123456"})
        assert response.status_code == 409


class TestTurningItOff:
    def test_needs_the_password_and_a_current_code(self, api, make_user, with_totp, clock, deliver):
        user = make_user()
        secret, _ = with_totp(user)
        client = api(user)
        wrong_password = client.post(DISABLE, {"password": "nope-nope-nope", "code": clock.code(secret)})
        assert wrong_password.status_code == 400
        wrong_code = client.post(DISABLE, {"password": DEFAULT_PASSWORD, "code": clock.code(secret, steps=5)})
        assert wrong_code.status_code == 400
        assert client.get(STATUS).json()["enabled"] is True

        response = deliver(
            lambda: client.post(DISABLE, {"password": DEFAULT_PASSWORD, "code": clock.code(secret)})
        )
        assert response.status_code == 204
        assert client.get(STATUS).json() == {
            "enabled": False,
            "methods": [],
            "totp_enabled_at": None,
            "sms_enabled_at": None,
            "recovery_codes_left": 0,
            "last_used_at": None,
            "last_used_method": None,
            "required": False,
        }
        assert not RecoveryCode.objects.filter(user=user).exists()
        assert "access" in password_login(user)

    def test_is_audited_and_emailed(self, api, make_user, with_totp, clock, deliver):
        user = make_user()
        secret, _ = with_totp(user)
        deliver(lambda: api(user).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": clock.code(secret)}))
        entry = AuditLog.objects.get(action="user.two_factor_disable")
        assert entry.changes == {"methods": [["totp"], []]}
        assert mail.outbox[-1].subject.startswith("Two-factor sign-in is off")

    def test_a_recovery_code_will_do(self, api, make_user, with_totp):
        user = make_user()
        _, codes = with_totp(user)
        response = api(user).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": codes[0].upper()})
        assert response.status_code == 204

    def test_an_sms_only_account_uses_a_texted_code(self, api, make_user, with_sms, deliver):
        user = make_user()
        with_sms(user)
        deliver(lambda: api(user).post(SMS_CODE))
        response = api(user).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": texted_code()})
        assert response.status_code == 204

    def test_when_off_is_409(self, api, make_user):
        response = api(make_user()).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": "123456"})
        assert response.status_code == 409


# --- Sign-in --------------------------------------------------------------------------------------------
class TestSignInAsksForASecondFactor:
    def test_the_right_password_answers_an_mfa_token_not_tokens(self, make_user, with_totp):
        user = make_user()
        with_totp(user)
        body = password_login(user)
        assert body.keys() == {"mfa_required", "mfa_token", "methods"}
        assert body["mfa_required"] is True
        assert body["methods"] == ["totp", "recovery"]

    def test_the_mfa_token_is_stored_only_as_a_hash(self, make_user, with_totp):
        user = make_user()
        with_totp(user)
        token = password_login(user)["mfa_token"]
        assert not TwoFactorChallenge.objects.filter(token_hash=token).exists()
        assert TwoFactorChallenge.objects.filter(user=user).count() == 1

    def test_a_wrong_password_is_still_401(self, make_user, with_totp):
        user = make_user()
        with_totp(user)
        response = APIClient().post(LOGIN, {"email": user.email, "password": "wrong-wrong-wrong"})
        assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")

    def test_the_app_code_finishes_it_with_tokens(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        response = verify(password_login(user)["mfa_token"], clock.code(secret))
        assert response.status_code == 200
        assert bearer(response.json()["access"]).get(ME).status_code == 200
        entry = AuditLog.objects.filter(action="user.login", target_id=str(user.pk)).latest("id")
        assert entry.changes == {"second_factor": [None, "totp"]}

    @pytest.mark.parametrize("steps", [-1, 1])
    def test_a_code_one_step_away_is_accepted(self, make_user, with_totp, clock, steps):
        user = make_user()
        secret, _ = with_totp(user)
        clock.advance(seconds=60)  # past the step used to confirm, also for -1
        assert verify(password_login(user)["mfa_token"], clock.code(secret, steps)).status_code == 200

    @pytest.mark.parametrize("steps", [-3, -2, 2, 3])
    def test_a_code_further_away_is_refused(self, make_user, with_totp, clock, steps):
        user = make_user()
        secret, _ = with_totp(user)
        clock.advance(minutes=5)
        assert verify(password_login(user)["mfa_token"], clock.code(secret, steps)).status_code == 400

    def test_an_app_code_cannot_be_used_twice(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        code = clock.code(secret)
        assert verify(password_login(user)["mfa_token"], code).status_code == 200
        replay = verify(password_login(user)["mfa_token"], code)
        assert replay.status_code == 400
        older = verify(password_login(user)["mfa_token"], clock.code(secret, steps=-1))
        assert older.status_code == 400  # older than the last one accepted

    def test_the_code_that_turned_the_app_on_is_answered_as_used_and_costs_no_try(
        self, api, make_user, clock, deliver
    ):
        user = make_user()
        secret = api(user).post(SETUP).json()["secret"]
        code = clock.code(secret)
        body = {"code": code, "password": DEFAULT_PASSWORD}
        assert deliver(lambda: api(user).post(CONFIRM, body)).status_code == 200
        token = password_login(user)["mfa_token"]
        replay = verify(token, code)
        assert replay.status_code == 400
        assert replay.json()["field_errors"] == {
            "code": ["This code was already used; wait for the app's next one."]
        }
        assert TwoFactorChallenge.objects.get(user=user).attempts == 0
        wrong = verify(token, clock.code(secret, steps=4))
        assert wrong.json()["field_errors"] == {"code": ["This code is wrong; 4 tries left."]}
        clock.advance(seconds=30)
        assert verify(token, clock.code(secret)).status_code == 200

    def test_a_texted_code_finishes_it(self, make_user, with_sms, deliver):
        user = make_user()
        with_sms(user)
        token = password_login(user)["mfa_token"]
        assert deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": token})).status_code == 202
        assert outbox[-1].to == MOBILE
        assert "sign-in code" in outbox[-1].body
        response = verify(token, texted_code())
        assert response.status_code == 200
        assert bearer(response.json()["access"]).get(ME).status_code == 200

    def test_a_code_printed_by_the_console_backend_finishes_it(
        self, make_user, with_sms, deliver, settings, capsys
    ):
        """Development's backend: the code a developer reads on the console is the one that works."""
        user = make_user()
        with_sms(user)
        settings.SMS_BACKEND = "apps.notifications.sms.ConsoleSMSBackend"
        token = password_login(user)["mfa_token"]
        capsys.readouterr()
        assert deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": token})).status_code == 202
        printed = capsys.readouterr().out
        assert f"SMS to {MOBILE}" in printed
        code = re.search(r"\b(\d{6})\b", printed).group(1)
        assert verify(token, other_than(code)).status_code == 400
        assert verify(token, code).status_code == 200

    def test_a_texted_code_expires_after_five_minutes(self, make_user, with_sms, deliver, clock, settings):
        settings.MFA_TOKEN_SECONDS = 15 * 60  # the mfa_token outlives the code here
        user = make_user()
        with_sms(user)
        token = password_login(user)["mfa_token"]
        deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": token}))
        code = texted_code()
        clock.advance(minutes=5)
        assert verify(token, code).status_code == 400
        clock.advance(seconds=-1)
        assert verify(token, code).status_code == 200

    def test_a_texted_code_of_another_sign_in_does_not_work(self, make_user, with_sms, deliver):
        user = make_user()
        with_sms(user)
        first = password_login(user)["mfa_token"]
        deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": first}))
        code = texted_code()
        second = password_login(user)["mfa_token"]
        assert verify(second, code).status_code == 400

    def test_texts_are_only_for_accounts_with_sms_on(self, make_user, with_totp, deliver):
        user = make_user()
        with_totp(user)
        token = password_login(user)["mfa_token"]
        response = deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": token}))
        assert response.status_code == 400
        assert outbox == []

    def test_one_mfa_token_gets_three_texts(self, make_user, with_sms, deliver):
        user = make_user()
        with_sms(user)
        token = password_login(user)["mfa_token"]
        answers = [
            deliver(lambda: APIClient().post(LOGIN_SMS, {"mfa_token": token})).status_code for _ in range(4)
        ]
        assert answers == [202, 202, 202, 429]
        assert len(outbox) == 3

    def test_a_recovery_code_works_once(self, make_user, with_totp):
        user = make_user()
        _, codes = with_totp(user)
        assert verify(password_login(user)["mfa_token"], codes[0]).status_code == 200
        assert verify(password_login(user)["mfa_token"], codes[0]).status_code == 400
        status = verify(password_login(user)["mfa_token"], f"  {codes[1].upper().replace('-', '')} ")
        assert status.status_code == 200  # case, spaces and the dash do not matter
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 8
        assert AuditLog.objects.filter(action="user.recovery_code_use").count() == 2


class TestTheMFAToken:
    def test_five_wrong_codes_kill_it(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        token = password_login(user)["mfa_token"]
        wrong = clock.code(secret, steps=4)
        messages = [verify(token, wrong).json()["field_errors"]["code"][0] for _ in range(5)]
        assert messages[0] == "This code is wrong; 4 tries left."
        assert messages[-1] == "This code is wrong, and that was the last try; sign in again."
        right = verify(token, clock.code(secret))
        assert (right.status_code, right.json()["code"]) == (401, "mfa_token_invalid")

    def test_it_expires_after_five_minutes(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        token = password_login(user)["mfa_token"]
        clock.advance(minutes=5)
        response = verify(token, clock.code(secret))
        assert (response.status_code, response.json()["code"]) == (401, "mfa_token_invalid")

    def test_it_works_once(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        token = password_login(user)["mfa_token"]
        assert verify(token, clock.code(secret)).status_code == 200
        clock.advance(seconds=30)
        assert verify(token, clock.code(secret)).status_code == 401

    def test_it_is_not_an_access_token(self, make_user, with_totp):
        user = make_user()
        with_totp(user)
        token = password_login(user)["mfa_token"]
        response = bearer(token).get(ME)
        assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
        refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": token})
        assert refresh.status_code == 401

    def test_an_unknown_token_is_401(self, db):
        response = verify("made-up", "123456")
        assert (response.status_code, response.json()["code"]) == (401, "mfa_token_invalid")

    def test_wrong_codes_are_limited_per_account_across_tokens(self, make_user, with_totp, clock, settings):
        settings.MFA_MAX_FAILURES_PER_USER = 3
        user = make_user()
        secret, _ = with_totp(user)
        wrong = clock.code(secret, steps=4)
        for _ in range(3):
            verify(password_login(user)["mfa_token"], wrong)
        response = verify(password_login(user)["mfa_token"], clock.code(secret))
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        clock.advance(minutes=61)
        assert verify(password_login(user)["mfa_token"], clock.code(secret)).status_code == 200

    def test_turning_2fa_off_meanwhile_kills_it(self, api, make_user, with_totp, clock):
        user = make_user()
        secret, codes = with_totp(user)
        token = password_login(user)["mfa_token"]
        api(user).post(DISABLE, {"password": DEFAULT_PASSWORD, "code": codes[0]})
        assert verify(token, clock.code(secret)).status_code == 401

    def test_a_deactivated_account_cannot_finish(self, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        token = password_login(user)["mfa_token"]
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert verify(token, clock.code(secret)).status_code == 401


class TestLoginEvents:
    def test_every_step_is_an_event_with_its_method_and_outcome(self, make_user, with_totp, clock):
        user = make_user()
        secret, codes = with_totp(user)
        LoginEvent.objects.all().delete()
        token = password_login(user)["mfa_token"]
        verify(token, clock.code(secret, steps=4))
        verify(token, codes[0])
        events = list(
            LoginEvent.objects.order_by("id").values_list("method", "success", "mfa_pending", "user_id")
        )
        assert events == [
            ("password", True, True, user.pk),
            ("totp", False, False, user.pk),
            ("recovery", True, False, user.pk),
        ]

    def test_statistics_count_each_sign_in_once(self, api, make_user, with_totp, clock):
        user = make_user()
        secret, _ = with_totp(user)
        LoginEvent.objects.all().delete()
        verify(password_login(user)["mfa_token"], clock.code(secret))
        stats = api(make_user("analytics.view_loginevent")).get("/api/v1/analytics/logins/?days=1").json()
        assert (stats["total"], stats["successful"]) == (1, 1)


# --- Staff ----------------------------------------------------------------------------------------------
@pytest.fixture
def staff(make_user):
    return make_user(is_staff=True)


class TestStaffMustEnrol:
    @pytest.fixture(autouse=True)
    def _required(self, settings):
        settings.REQUIRE_2FA_FOR_STAFF = True

    def enrolment_refusal(self, user):
        return APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    def test_staff_without_2fa_get_a_403_naming_the_enrolment_endpoint(self, staff, clock):
        response = self.enrolment_refusal(staff)
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "mfa_enrolment_required"
        assert body["enrol_at"] == "/api/v1/auth/2fa/totp/setup/"
        assert "auth/2fa/totp/setup/" in body["message"]
        assert "access" not in body and body["mfa_token"]

    def test_the_enrolment_token_sets_up_the_app_and_then_signs_in(self, staff, clock, deliver):
        token = self.enrolment_refusal(staff).json()["mfa_token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"MFA {token}")
        secret = client.post(SETUP).json()["secret"]
        response = deliver(lambda: client.post(CONFIRM, {"code": clock.code(secret)}))
        assert response.status_code == 200
        body = response.json()
        assert len(body["recovery_codes"]) == 10
        assert bearer(body["access"]).get(ME).status_code == 200
        assert body["status"]["required"] is True
        # Used up: the enrolment token opens nothing now.
        assert client.post(SETUP).status_code == 401

    def test_the_enrolment_token_opens_nothing_else(self, staff, clock):
        token = self.enrolment_refusal(staff).json()["mfa_token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"MFA {token}")
        assert client.get(ME).status_code == 401
        assert client.get(STATUS).status_code == 401
        assert bearer(token).get(ME).status_code == 401
        assert verify(token, "123456").status_code == 401  # not a sign-in token either

    def test_five_wrong_codes_kill_the_enrolment_token(self, staff, clock):
        token = self.enrolment_refusal(staff).json()["mfa_token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"MFA {token}")
        secret = client.post(SETUP).json()["secret"]
        for _ in range(5):
            assert client.post(CONFIRM, {"code": clock.code(secret, steps=4)}).status_code == 400
        assert client.post(CONFIRM, {"code": clock.code(secret)}).status_code == 401

    def test_each_enrolment_code_is_a_sign_in_event(self, staff, clock):
        LoginEvent.objects.all().delete()
        token = self.enrolment_refusal(staff).json()["mfa_token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"MFA {token}")
        secret = client.post(SETUP).json()["secret"]
        client.post(CONFIRM, {"code": clock.code(secret, steps=4)})
        assert client.post(CONFIRM, {"code": clock.code(secret)}).status_code == 200
        events = list(LoginEvent.objects.order_by("id").values_list("method", "success", "mfa_pending"))
        assert events == [("password", True, True), ("totp", False, False), ("totp", True, False)]

    def test_staff_with_2fa_sign_in_with_a_code(self, staff, with_totp, clock, settings):
        settings.REQUIRE_2FA_FOR_STAFF = False  # turned on with a token, before the rule
        secret, _ = with_totp(staff)
        settings.REQUIRE_2FA_FOR_STAFF = True
        body = password_login(staff)
        assert body["mfa_required"] is True
        assert verify(body["mfa_token"], clock.code(secret)).status_code == 200

    def test_members_are_not_required(self, make_user, clock):
        assert "access" in password_login(make_user())

    def test_a_failed_enrolment_refusal_still_releases_the_failed_login_slot(self, staff, clock):
        # The password was right: six refusals in a row must not lock the account out.
        for _ in range(6):
            assert self.enrolment_refusal(staff).status_code == 403


def test_without_the_setting_staff_sign_in_with_the_password_alone(staff, settings):
    settings.REQUIRE_2FA_FOR_STAFF = False
    assert "access" in password_login(staff)


def test_the_number_sign_in_codes_go_to_cannot_be_removed(api, make_user, with_sms):
    user = make_user()
    with_sms(user)
    response = api(user).patch(ME, {"phone": ""})
    assert response.status_code == 400
    assert "phone" in response.json()["field_errors"]
    user.refresh_from_db()
    assert str(user.phone) == MOBILE


# --- concurrency ----------------------------------------------------------------------------------------
def at_once(calls: int, call) -> list[int]:
    """`call()` from `calls` threads released together; their statuses, sorted."""
    barrier, statuses = threading.Barrier(calls), []

    def run():
        try:
            barrier.wait()
            statuses.append(call())
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(calls)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return sorted(statuses)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real row lock needs PostgreSQL")
@pytest.mark.django_db(databases="__all__", transaction=True)
class TestAtOnce:
    def test_one_mfa_token_sent_with_the_right_code_four_times_at_once_signs_in_once(
        self, make_user, with_totp, clock
    ):
        user = make_user()
        secret, _ = with_totp(user)
        token, code = password_login(user)["mfa_token"], clock.code(secret)
        assert at_once(4, lambda: verify(token, code).status_code) == [200, 401, 401, 401]
        assert AuthSession.objects.filter(user=user).count() == 1, "one session began"

    def test_parallel_wrong_codes_cannot_share_a_try(self, make_user, with_totp, clock, settings):
        user = make_user()
        secret, _ = with_totp(user)
        token = password_login(user)["mfa_token"]
        TwoFactorChallenge.objects.update(attempts=settings.MFA_TOKEN_MAX_ATTEMPTS - 1)
        wrong = clock.code(secret, steps=4)
        assert at_once(3, lambda: verify(token, wrong).status_code) == [400, 401, 401]
        assert TwoFactorChallenge.objects.get().attempts == settings.MFA_TOKEN_MAX_ATTEMPTS

    def test_one_recovery_code_on_two_sign_ins_at_once_works_once(self, make_user, with_totp):
        user = make_user()
        _, codes = with_totp(user)
        tokens = iter([password_login(user)["mfa_token"], password_login(user)["mfa_token"]])
        pairs = [(next(tokens), codes[0]), (next(tokens), codes[0])]
        assert at_once(2, lambda: verify(*pairs.pop()).status_code) == [200, 400]
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9
