"""The auth cache: a read takes the signed-in user and the session state from Redis, and every
change to either reaches the very next request (apps/accounts/auth_cache.py)."""

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts import auth_cache
from apps.accounts.jwt import SESSION_CLAIM
from apps.accounts.models import AuthSession
from apps.accounts.services import sessions_revoke
from tests.conftest import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    pytest.mark.skipif(
        not hasattr(getattr(cache, "client", None), "get_client"),
        reason="the auth cache serves only from a shared Redis (set REDIS_URL)",
    ),
]

LOGIN = "/api/v1/auth/login/"
ME = "/api/v1/users/me/"


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.com", full_name="Ada Lovelace")


@pytest.fixture
def tokens(api, ada):
    response = api().post(LOGIN, {"email": ada.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def client(api, tokens):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get(ME).status_code == 200  # fills the cache
    return client


def redis():
    return cache.client.get_client(write=True)


def entry(name: str):
    return redis().get(cache.make_key(name))


def session_of(tokens) -> str:
    return AccessToken(tokens["access"])[SESSION_CLAIM]


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def queries_of(request) -> list[str]:
    with CaptureQueriesContext(connections["default"]) as queries:
        request()
    return [query["sql"] for query in queries]


class TestReads:
    def test_a_read_after_the_first_makes_no_query_to_authenticate(self, client):
        assert queries_of(lambda: client.get(ME)) == []

    def test_it_answers_what_the_database_would(self, client, ada):
        body = client.get(ME).json()
        assert (body["id"], body["email"], body["full_name"]) == (ada.pk, ada.email, "Ada Lovelace")

    def test_a_write_reads_the_user_and_session_from_the_database(self, client):
        sql = queries_of(lambda: client.patch(ME, {"full_name": "Ada King"}))
        assert any("EXISTS" in statement for statement in sql)

    def test_the_cache_off_means_one_query_per_read(self, client, settings):
        settings.AUTH_CACHE_SECONDS = 0
        assert len(queries_of(lambda: client.get(ME))) == 1

    def test_entries_expire_after_auth_cache_seconds(self, client, ada, tokens, settings):
        for name in (f"auth:user:{ada.pk}", f"auth:session:{session_of(tokens)}"):
            assert 0 < redis().ttl(cache.make_key(name)) <= settings.AUTH_CACHE_SECONDS

    def test_no_password_hash_is_cached(self, client, ada):
        ada.refresh_from_db()
        cached = entry(f"auth:user:{ada.pk}")
        assert cached is not None
        assert ada.password.encode() not in cached

    def test_a_cached_user_loads_the_password_only_when_asked(self, client, ada):
        from apps.accounts.jwt import _user_with_session_state_cached

        user, live, _digest, _two_factor_on = _user_with_session_state_cached(
            ada.pk, AuthSession.objects.get().pk
        )
        assert live and "password" in user.get_deferred_fields()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_staff_with_two_factor_read_from_the_cache_and_lose_it_with_their_two_factor(
        self, api, make_user, superuser, settings
    ):
        from apps.accounts.models import TwoFactor
        from apps.accounts.services import session_start, two_factor_reset

        settings.REQUIRE_2FA_FOR_STAFF = True
        grace = make_user(email="grace@example.com", is_staff=True)
        TwoFactor.objects.create(user=grace, totp_secret="x", totp_enabled_at=timezone.now())
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=grace)['access']}")
        assert client.get(ME).status_code == 200  # fills the cache, 2FA state included
        assert queries_of(lambda: client.get(ME)) == []
        two_factor_reset(user=grace, actor=superuser)
        assert refusal(client.get(ME)) == (403, "mfa_enrolment_required")

    def test_an_unreachable_redis_falls_back_to_the_database(self, client, settings):
        settings.CACHES = {
            **settings.CACHES,
            "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
        }
        response = None

        def read():
            nonlocal response
            response = client.get(ME)

        assert len(queries_of(read)) == 1
        assert response.status_code == 200


class TestOneRoundTrip:
    """The round trip that reads the entries also counts the read in the general throttles and
    brings the caller's cached permission set along (CountAhead in apps/core/throttles.py)."""

    @pytest.fixture
    def round_trips(self, monkeypatch):
        import redis.client

        commands = []
        original = redis.client.Redis.execute_command

        def counting(self, *args, **options):
            commands.append(args[0])
            return original(self, *args, **options)

        monkeypatch.setattr(redis.client.Redis, "execute_command", counting)
        return commands

    @pytest.fixture
    def viewer(self, api, make_user):
        viewer = make_user("accounts.view_user")
        response = api().post(LOGIN, {"email": viewer.email, "password": DEFAULT_PASSWORD})
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        assert client.get("/api/v1/users/").status_code == 200  # fills the caches
        return viewer, client

    def test_a_signed_in_read_makes_one_redis_round_trip(self, viewer, round_trips):
        _, client = viewer
        assert client.get("/api/v1/users/").status_code == 200
        assert client.get(ME).status_code == 200
        assert len(round_trips) == 2

    def test_the_read_is_counted_once(self, viewer):
        from apps.core.throttles import UserRateThrottle

        user, client = viewer
        window = int(UserRateThrottle().timer() // UserRateThrottle().duration)
        before = cache.get(f"throttle_user_{user.pk}:{window}")
        client.get(ME)
        assert cache.get(f"throttle_user_{user.pk}:{window}") == before + 1

    def test_a_window_that_turns_over_in_between_counts_the_read_in_the_new_one(self, viewer, monkeypatch):
        import time

        from apps.core.throttles import UserRateThrottle

        user, client = viewer
        duration = UserRateThrottle().duration
        later = time.time() + duration
        monkeypatch.setattr(UserRateThrottle, "timer", lambda self: later)
        assert client.get(ME).status_code == 200
        assert cache.get(f"throttle_user_{user.pk}:{int(later // duration)}") == 1

    def test_a_write_counts_in_a_round_trip_of_its_own(self, viewer, round_trips):
        _, client = viewer
        assert client.patch(ME, {"full_name": "Grace Hopper"}).status_code == 200
        assert "EVALSHA" in round_trips


class TestChangesReachTheNextRead:
    def test_sign_out(self, client, tokens):
        assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
        assert refusal(client.get(ME)) == (401, "session_ended")

    def test_sign_out_everywhere(self, client):
        assert client.post("/api/v1/auth/logout/all/").status_code == 204
        assert refusal(client.get(ME)) == (401, "session_ended")

    def test_staff_ending_the_session(self, client, superuser):
        sessions_revoke(sessions=AuthSession.objects.all(), actor=superuser)
        assert refusal(client.get(ME)) == (401, "session_ended")

    def test_a_reused_refresh_token(self, client, api, tokens):
        refresh = "/api/v1/auth/token/refresh/"
        assert api().post(refresh, {"refresh": tokens["refresh"]}).status_code == 200
        assert api().post(refresh, {"refresh": tokens["refresh"]}).status_code == 401
        assert refusal(client.get(ME)) == (401, "session_ended")

    def test_a_deactivation(self, client, ada):
        ada.is_active = False
        ada.save()
        assert refusal(client.get(ME)) == (401, "user_inactive")

    def test_a_new_password(self, client, ada):
        ada.set_password("another-long-passphrase")
        ada.save()
        assert refusal(client.get(ME)) == (401, "password_changed")

    def test_a_deleted_user(self, client, ada):
        ada.delete()
        assert refusal(client.get(ME)) == (401, "token_not_valid")

    def test_a_profile_change(self, client, ada):
        ada.full_name = "Ada King"
        ada.save(update_fields=["full_name"])
        assert client.get(ME).json()["full_name"] == "Ada King"

    def test_the_change_is_forgotten_again_once_it_commits(
        self, client, ada, tokens, django_capture_on_commit_callbacks
    ):
        """A read between the change and its commit sees the old row and may cache it; the
        delete after the commit removes it."""
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            ada.full_name = "Ada King"
            ada.save(update_fields=["full_name"])
            stale = auth_cache.lookup(ada.pk, session_of(tokens))
            auth_cache.fill(stale, user_entry=("old",), session_user_id=ada.pk)
            assert entry(f"auth:user:{ada.pk}") is not None
        assert entry(f"auth:user:{ada.pk}") is None


class TestLeases:
    def test_a_miss_is_filled_under_its_lease(self, ada):
        found = auth_cache.lookup(ada.pk, "s1")
        assert found.user_entry is None and found.session_user_id is None
        auth_cache.fill(found, user_entry=("columns", "values", "digest", None), session_user_id=ada.pk)
        again = auth_cache.lookup(ada.pk, "s1")
        assert (again.user_entry, again.session_user_id) == (("columns", "values", "digest", None), ada.pk)

    def test_a_read_that_raced_with_a_change_stores_nothing(self, ada):
        found = auth_cache.lookup(ada.pk, "s1")  # the lease; then the database read
        auth_cache.forget_user(ada.pk)  # the change commits meanwhile
        auth_cache.forget_sessions(["s1"])
        auth_cache.fill(found, user_entry=("columns", "values", "digest", None), session_user_id=ada.pk)
        assert entry(f"auth:user:{ada.pk}") is None
        assert entry("auth:session:s1") is None

    def test_a_concurrent_miss_leaves_the_fill_to_the_first_lease(self, ada):
        first, second = auth_cache.lookup(ada.pk, "s1"), auth_cache.lookup(ada.pk, "s1")
        auth_cache.fill(second, user_entry=("second",) * 4, session_user_id=ada.pk)
        assert entry(f"auth:user:{ada.pk}").startswith(b"lease:")
        auth_cache.fill(first, user_entry=("first",) * 4, session_user_id=ada.pk)
        assert auth_cache.lookup(ada.pk, "s1").user_entry == ("first",) * 4

    def test_an_ended_session_is_not_cached(self, ada):
        found = auth_cache.lookup(ada.pk, "s1")
        auth_cache.fill(found, user_entry=None, session_user_id=None)
        assert entry("auth:session:s1") is None
        assert entry(f"auth:user:{ada.pk}") is None
