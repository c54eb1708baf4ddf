"""Text message budgets: what SMS pumping can cost.

Every text the application sends (a phone verification, a two-factor or sign-in code, a password
reset code) counts against its number's budget, whatever the account or purpose
(THROTTLE_SMS_NUMBER_RATE), and against one global budget (THROTTLE_SMS_GLOBAL_RATE), both in the
shared throttle cache. A spent budget is a 429 where a client waits for the text, and nothing is
sent; a reset by phone still answers its 202 and drops the text. The global budget's running out is
logged once, as an error, without a number or a code.
"""

import logging
import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from apps.accounts.models import SMSCode, TwoFactor, TwoFactorChallenge
from apps.accounts.services.signin import challenge_start
from apps.core.errors import RateLimited
from apps.logs.models import AuditLog
from apps.notifications.sms import outbox
from apps.notifications.sms_budget import SMSBudgetSpent, sms_budget_take
from apps.notifications.throttles import SMSGlobalBudget, SMSNumberBudget
from config.settings.base import sms_allowed_countries
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

MOBILE = "+447911123456"
OTHER_MOBILE = "+447400123456"
PHONE = "/api/v1/users/me/phone/"
TWO_FACTOR_CODE = "/api/v1/auth/2fa/sms/code/"
LOGIN_SMS = "/api/v1/auth/login/sms/"
RESET = "/api/v1/auth/password/reset/"


@pytest.fixture
def three_texts_a_number(monkeypatch):
    monkeypatch.setattr(SMSNumberBudget, "rate", "3/hour", raising=False)


@pytest.fixture
def two_texts_in_all(monkeypatch):
    monkeypatch.setattr(SMSGlobalBudget, "rate", "2/hour", raising=False)


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    """`post(user, path, body)`: the request commits and its text, if any, is delivered."""

    def post(user, path, body=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return api(user).post(path, body or {}, **extra)

    return post


@pytest.fixture
def owner(make_user):
    """An account that verified MOBILE two days ago (a reset by phone waits for the cooling-off)."""
    return make_user(
        phone=MOBILE, phone_verified_at=timezone.now() - timedelta(days=2), email_verified_at=timezone.now()
    )


def asker(make_user):
    return make_user(email_verified_at=timezone.now())


def throttled(response) -> bool:
    return response.status_code == 429 and response.json()["code"] == "throttled"


class TestPerNumber:
    def test_texts_to_one_number_share_a_budget_whatever_the_purpose(self, post, owner, three_texts_a_number):
        assert post(owner, TWO_FACTOR_CODE).status_code == 202
        assert post(None, RESET, {"phone": MOBILE}).status_code == 202
        assert post(owner, TWO_FACTOR_CODE).status_code == 202
        assert [message.to for message in outbox] == [MOBILE] * 3
        refused = post(owner, TWO_FACTOR_CODE)
        assert throttled(refused) and 0 < int(refused["Retry-After"]) <= 3600
        assert len(outbox) == 3, "nothing sent"

    def test_texts_to_one_number_share_a_budget_whatever_the_account(
        self, post, make_user, three_texts_a_number
    ):
        """Ten fresh accounts a hour per address once made fifty texts to one number."""
        statuses = [
            post(asker(make_user), PHONE, {"phone": MOBILE, "password": DEFAULT_PASSWORD}).status_code
            for _ in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        assert len(outbox) == 3
        assert (
            post(asker(make_user), PHONE, {"phone": OTHER_MOBILE, "password": DEFAULT_PASSWORD}).status_code
            == 202
        ), "its own budget"

    def test_a_spent_budget_sends_no_sign_in_code_and_says_429(self, post, owner, three_texts_a_number):
        TwoFactor.objects.create(user=owner, sms_enabled_at=timezone.now())
        for _ in range(3):
            post(owner, TWO_FACTOR_CODE)
        outbox.clear()
        mfa_token = challenge_start(user=owner, purpose=TwoFactorChallenge.Purpose.SIGN_IN)
        response = post(None, LOGIN_SMS, {"mfa_token": mfa_token})
        assert throttled(response) and outbox == []
        challenge = TwoFactorChallenge.objects.get(user=owner)
        assert challenge.sms_sent == 0, "a refused text is not one of the mfa_token's three"
        assert not SMSCode.objects.filter(purpose=SMSCode.Purpose.SIGN_IN).exists()

    def test_a_reset_by_phone_over_budget_still_answers_202_and_drops_the_text(
        self, post, owner, three_texts_a_number
    ):
        for _ in range(3):
            post(owner, TWO_FACTOR_CODE)
        outbox.clear()
        response = post(None, RESET, {"phone": MOBILE}, REMOTE_ADDR="192.0.2.9")
        assert response.status_code == 202 and outbox == []
        assert not SMSCode.objects.filter(purpose=SMSCode.Purpose.PASSWORD_RESET).exists()
        entry = AuditLog.objects.get(action="user.password_reset_request")
        assert entry.changes["refused"] == [None, "text message budget spent"]

    def test_the_counter_is_in_the_shared_throttle_cache_and_its_key_names_no_number(self, post, owner):
        keys = []
        original = caches["throttle"].add
        caches["throttle"].add = lambda key, *a, **kw: keys.append(key) or original(key, *a, **kw)
        try:
            post(owner, TWO_FACTOR_CODE)
        finally:
            del caches["throttle"].add
        assert any("sms_number" in key for key in keys) and any("sms_global" in key for key in keys)
        assert not any("7911" in key for key in keys)

    def test_budgets_keep_counting_when_redis_is_down(self, post, owner, settings, three_texts_a_number):
        settings.CACHES = {
            **settings.CACHES,
            "throttle": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
            },
        }
        statuses = [post(owner, TWO_FACTOR_CODE).status_code for _ in range(4)]
        assert statuses == [202, 202, 202, 429]


class TestTheRefusal:
    MESSAGE = "Too many text messages to this number lately; try again later."

    def test_a_spent_budget_is_a_rate_limit_of_the_domain_with_its_wait(self, three_texts_a_number):
        for _ in range(3):
            sms_budget_take(MOBILE)
        with pytest.raises(RateLimited) as refused:
            sms_budget_take(MOBILE)
        assert isinstance(refused.value, SMSBudgetSpent)
        assert str(refused.value.message) == self.MESSAGE
        assert 0 < refused.value.wait <= 3600

    def test_the_api_answers_429_with_the_message_and_retry_after(self, post, owner, three_texts_a_number):
        for _ in range(3):
            post(owner, TWO_FACTOR_CODE)
        refused = post(owner, TWO_FACTOR_CODE)
        wait = int(refused["Retry-After"])
        assert (refused.status_code, refused.json()["code"]) == (429, "throttled")
        assert refused.json()["message"] == f"{self.MESSAGE} Expected available in {wait} seconds."

    def test_the_admin_sign_in_shows_it_as_a_message(self, client, make_user, three_texts_a_number):
        staff = make_user(is_staff=True, phone=MOBILE, phone_verified_at=timezone.now())
        TwoFactor.objects.create(user=staff, sms_enabled_at=timezone.now())
        for _ in range(3):
            sms_budget_take(MOBILE)
        client.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
        response = client.post("/admin/login/verify/", {"send_sms": "1"}, follow=True)
        assert [str(message) for message in response.context["messages"]] == [self.MESSAGE]
        assert outbox == []


class TestGlobal:
    def test_past_the_global_budget_every_number_waits(self, post, make_user, two_texts_in_all):
        assert (
            post(asker(make_user), PHONE, {"phone": MOBILE, "password": DEFAULT_PASSWORD}).status_code == 202
        )
        assert (
            post(asker(make_user), PHONE, {"phone": OTHER_MOBILE, "password": DEFAULT_PASSWORD}).status_code
            == 202
        )
        response = post(asker(make_user), PHONE, {"phone": "+447400123457", "password": DEFAULT_PASSWORD})
        assert throttled(response)
        assert len(outbox) == 2

    def test_running_out_is_logged_once_as_an_error_without_number_or_code(
        self, post, make_user, two_texts_in_all, caplog
    ):
        caplog.set_level(logging.INFO, logger="apps.notifications.sms_budget")
        for n in range(5):
            post(asker(make_user), PHONE, {"phone": f"+4474001234{n:02d}", "password": DEFAULT_PASSWORD})
        records = [r for r in caplog.records if r.name == "apps.notifications.sms_budget"]
        assert [r.levelno for r in records] == [logging.ERROR]
        message = records[0].getMessage()
        assert "SMS budget spent" in message
        assert "+44" not in message and "7400" not in message
        assert not re.search(r"\b\d{6}\b", message), "no code"


class TestAllowedCountriesSetting:
    def test_region_codes_are_read_in_any_case(self):
        assert sms_allowed_countries(["gb", " IE ", ""]) == frozenset({"GB", "IE"})

    def test_empty_means_every_country(self):
        assert sms_allowed_countries([]) == frozenset()

    def test_an_unknown_code_stops_start_up(self):
        with pytest.raises(ImproperlyConfigured, match="XX"):
            sms_allowed_countries(["GB", "XX"])
