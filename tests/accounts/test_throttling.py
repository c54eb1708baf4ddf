"""Abuse resistance: the security throttles answer 429 with Retry-After, and keep counting
when Redis is down."""

import pytest
from django.core.cache import caches

from apps.accounts.throttles import LoginThrottle
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

LOGIN = "/api/v1/auth/login/"


def attempt(api, email, password="wrong-password", ip="198.51.100.1"):
    return api().post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_logins_per_minute_for_one_email_and_ip_then_429(api, make_user):
    make_user(email="ada@example.com")
    assert [attempt(api, "ada@example.com").status_code for _ in range(5)] == [401] * 5
    blocked = attempt(api, "ada@example.com", DEFAULT_PASSWORD)
    assert blocked.status_code == 429, "even the right password waits until the window passes"
    assert blocked.json()["code"] == "throttled"
    assert 0 < int(blocked["Retry-After"]) <= 60


def test_failures_for_one_email_do_not_lock_out_other_emails_or_addresses(api, make_user):
    make_user(email="ada@example.com")
    make_user(email="grace@example.com")
    for _ in range(5):
        attempt(api, "ada@example.com")
    assert attempt(api, "grace@example.com", DEFAULT_PASSWORD).status_code == 200
    assert attempt(api, "ada@example.com", DEFAULT_PASSWORD, ip="203.0.113.50").status_code == 200


def test_successful_logins_do_not_count_as_failures(api, make_user):
    make_user(email="ada@example.com")
    assert all(attempt(api, "ada@example.com", DEFAULT_PASSWORD).status_code == 200 for _ in range(6))


def test_login_attempts_per_ip_are_capped_across_emails(api, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "3/minute", raising=False)
    statuses = [attempt(api, f"user{i}@example.com").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_registration_is_throttled_per_ip(api):
    statuses = [
        api()
        .post("/api/v1/auth/register/", {"email": f"u{i}@example.com", "username": f"u{i}", "password": "x"})
        .status_code
        for i in range(11)
    ]
    assert statuses == [400] * 10 + [429]


def test_password_reset_requests_are_throttled(api):
    statuses = [
        api().post("/api/v1/auth/password/reset/", {"email": "a@example.com"}).status_code for _ in range(6)
    ]
    assert statuses == [202] * 5 + [429]


def test_verification_resends_are_throttled_per_user(api, make_user):
    client = api(make_user())
    statuses = [client.post("/api/v1/auth/email/verify/resend/").status_code for _ in range(4)]
    assert statuses == [202] * 3 + [429]


def test_throttle_keys_do_not_contain_email_addresses(api, make_user, monkeypatch):
    keys = []
    original = caches["throttle"].set
    monkeypatch.setattr(
        caches["throttle"], "set", lambda key, *a, **kw: keys.append(key) or original(key, *a, **kw)
    )
    attempt(api, "ada@example.com")
    assert keys and not any("ada" in key for key in keys)


def test_login_throttling_keeps_working_when_redis_is_down(api, make_user, settings, caplog):
    """Redis down must not mean "no limit": the local fallback takes over (per process)."""
    make_user(email="ada@example.com")
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    assert [attempt(api, "ada@example.com").status_code for _ in range(5)] == [401] * 5
    assert attempt(api, "ada@example.com").status_code == 429
    assert "Throttle cache unavailable (ConnectionError)" in caplog.text


def test_reset_confirmations_are_counted_per_ip_whatever_email_the_body_names(api):
    statuses = [
        api()
        .post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": "MQ", "token": "x", "new_password": "a-long-pass-phrase-7", "email": f"u{n}@example.com"},
        )
        .status_code
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]
