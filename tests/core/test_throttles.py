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


# --- The round trip also brings the caller's cached permission set ------------------------------------
class CountingGetMany:
    """The permission backend's cache, counting the reads it makes for itself."""

    def __init__(self, real):
        self.real, self.reads = real, 0

    def get_many(self, keys):
        self.reads += 1
        return self.real.get_many(keys)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def permission_reads(monkeypatch):
    from apps.roles import backends

    counting = CountingGetMany(backends.cache)
    monkeypatch.setattr(backends, "cache", counting)
    return counting


def test_the_permission_check_reads_nothing_of_its_own(api, make_user, permission_reads):
    viewer = make_user("accounts.view_user")
    client = api(viewer)
    assert client.get(f"/api/v1/users/{viewer.pk}/").status_code == 200  # computes and caches the set
    assert client.get("/api/v1/users/").status_code == 200  # reads it along with the counter
    assert client.get(f"/api/v1/users/{viewer.pk}/").status_code == 200
    assert permission_reads.reads == 0


def test_a_permission_taken_away_is_refused_on_the_next_request(api, make_user, permission_reads):
    viewer = make_user("accounts.view_user")
    client = api(viewer)
    assert client.get("/api/v1/users/").status_code == 200
    viewer.user_permissions.clear()
    assert client.get("/api/v1/users/").status_code == 403


def test_a_role_losing_a_permission_is_refused_on_the_next_request(api, make_user, permission_reads):
    from django.contrib.auth.models import Group, Permission

    role = Group.objects.create(name="viewers")
    role.permissions.add(Permission.objects.get(codename="view_user"))
    member = make_user()
    member.groups.add(role)
    client = api(member)
    assert client.get("/api/v1/users/").status_code == 200
    role.permissions.clear()  # bumps the version: the entry brought along is of an older one
    assert client.get("/api/v1/users/").status_code == 403


def test_with_the_cache_down_the_permission_check_reads_for_itself(
    api, make_user, permission_reads, monkeypatch
):
    class Broken:
        def __getattr__(self, name):
            raise ConnectionError("cache down")

    monkeypatch.setattr(throttles, "cache", Broken())
    viewer = make_user("accounts.view_user")
    assert api(viewer).get("/api/v1/users/").status_code == 200
    assert permission_reads.reads == 1


def test_a_caller_over_the_general_limit_is_throttled_before_the_permission_check(
    api, make_user, three_a_minute
):
    client = api(make_user())  # holds no permission to list users
    assert [client.get("/api/v1/users/").status_code for _ in range(4)] == [403, 403, 403, 429]


def test_security_limits_counted_per_user_still_wait_for_a_signed_in_caller(api, monkeypatch):
    from apps.accounts.throttles import PasswordCheckThrottle

    monkeypatch.setattr(PasswordCheckThrottle, "rate", "1/hour", raising=False)
    body = {"current_password": "x", "new_password": "y"}
    statuses = [api().post("/api/v1/auth/password/change/", body).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]  # anonymous callers share no per-user budget


def test_the_throttles_are_made_once_per_request(api, make_user, monkeypatch):
    made = []
    original = UserRateThrottle.__init__
    monkeypatch.setattr(UserRateThrottle, "__init__", lambda self: made.append(1) or original(self))
    assert api(make_user()).get(ME).status_code == 200
    assert made == [1]
