"""The general limits: a fixed-window counter per user (or client address), one atomic step each."""

import pytest
from django.core.cache import cache

from apps.core import throttles
from apps.core.throttles import AnonRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db(databases="__all__")

ME = "/api/v1/users/me/"


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "3/minute", raising=False)
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)


def test_a_signed_in_user_gets_the_rate_then_429_with_retry_after(api, make_user, three_a_minute):
    client = api(make_user())
    statuses = [client.get(ME).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(ME)
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_each_user_has_a_budget_of_their_own(api, make_user, three_a_minute):
    first, second = api(make_user()), api(make_user())
    for _ in range(3):
        first.get(ME)
    assert first.get(ME).status_code == 429
    assert second.get(ME).status_code == 200


def test_anonymous_callers_are_counted_per_address(api, three_a_minute):
    statuses = [api().get("/api/v1/", REMOTE_ADDR="198.51.100.1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert api().get("/api/v1/", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_the_counter_is_one_number_that_expires_with_its_window(api, make_user, three_a_minute):
    user = make_user()
    api(user).get(ME)
    api(user).get(ME)
    window = int(UserRateThrottle().timer() // 60)
    assert cache.get(f"throttle_user_{user.pk}:{window}") == 2


def test_a_failing_cache_lets_requests_through(api, make_user, three_a_minute, monkeypatch):
    class Broken:
        def __getattr__(self, name):
            raise ConnectionError("cache down")

    monkeypatch.setattr(throttles, "cache", Broken())
    client = api(make_user())
    assert [client.get(ME).status_code for _ in range(5)] == [200] * 5
