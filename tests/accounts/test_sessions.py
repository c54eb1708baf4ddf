"""Sessions: an ended session ends every token of it, at once."""

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.jwt import SESSION_CLAIM
from apps.accounts.models import AuthSession
from apps.accounts.services import sessions_prune
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/users/me/"


def login(api, email="ada@example.com"):
    response = api().post(LOGIN, {"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def bearer(api, access):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.com")


class TestRefreshTokenReuse:
    def test_a_reused_refresh_token_ends_the_whole_family(self, api, ada, token_answers):
        first = login(api)
        second = api().post(REFRESH, {"refresh": first["refresh"]}).json()
        reused = api().post(REFRESH, {"refresh": first["refresh"]})
        assert reused.status_code == 401
        assert reused.json()["code"] == "token_not_valid"
        assert token_answers(second) == {"access": 401, "refresh": 401}, "the thief's copy dies too"
        assert AuthSession.objects.get().end_reason == AuthSession.EndReason.REFRESH_REUSE
        assert AuditLog.objects.filter(action="user.session_revoke", target_id=str(ada.pk)).exists()

    def test_other_sessions_of_the_user_live_on(self, api, ada, token_answers):
        phone, laptop = login(api), login(api)
        api().post(REFRESH, {"refresh": phone["refresh"]})
        api().post(REFRESH, {"refresh": phone["refresh"]})
        assert token_answers(laptop) == {"access": 200, "refresh": 200}

    def test_rotation_keeps_the_session(self, api, ada):
        first = login(api)
        second = api().post(REFRESH, {"refresh": first["refresh"]}).json()
        assert AccessToken(second["access"])[SESSION_CLAIM] == AccessToken(first["access"])[SESSION_CLAIM]
        assert AuthSession.objects.get().last_refreshed_at is not None


class TestLogout:
    def test_the_access_token_stops_working_at_once(self, api, ada):
        tokens = login(api)
        client = bearer(api, tokens["access"])
        assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
        response = client.get(ME)
        assert response.status_code == 401
        assert response.json()["code"] == "session_ended"

    def test_logout_everywhere_ends_every_session(self, api, ada, token_answers):
        phone, laptop = login(api), login(api)
        assert bearer(api, phone["access"]).post("/api/v1/auth/logout/all/").status_code == 204
        assert token_answers(phone) == {"access": 401, "refresh": 401}
        assert token_answers(laptop) == {"access": 401, "refresh": 401}
        assert AuditLog.objects.filter(action="user.logout_all", actor_id=ada.pk).exists()
        assert login(api)["access"], "signing in again works"

    def test_logout_everywhere_also_ends_tokens_issued_without_a_session(self, api, ada):
        old = AccessToken.for_user(ada)
        old.set_iat(at_time=timezone.now() - timedelta(seconds=5))
        assert bearer(api, login(api)["access"]).post("/api/v1/auth/logout/all/").status_code == 204
        assert bearer(api, str(old)).get(ME).status_code == 401


class TestDeactivation:
    def test_tokens_from_before_a_deactivation_stay_dead_after_reactivation(
        self, api, ada, make_user, token_answers
    ):
        tokens = login(api)
        staff = make_user("accounts.change_user")
        assert api(staff).patch(f"/api/v1/users/{ada.pk}/", {"is_active": False}).status_code == 200
        assert api(staff).patch(f"/api/v1/users/{ada.pk}/", {"is_active": True}).status_code == 200
        assert token_answers(tokens) == {"access": 401, "refresh": 401}
        assert login(api)["access"]


class TestTokenErrors:
    def test_an_expired_access_token_says_so(self, api, ada):
        token = AccessToken.for_user(ada)
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
        response = bearer(api, str(token)).get(ME)
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"

    def test_an_expired_refresh_token_says_so(self, api, ada):
        token = RefreshToken.for_user(ada)
        token.set_exp(from_time=timezone.now() - timedelta(days=30))
        response = api().post(REFRESH, {"refresh": str(token)})
        assert (response.status_code, response.json()["code"]) == (401, "token_expired")

    def test_a_garbage_token_is_not_valid(self, api):
        response = bearer(api, "not.a.token").get(ME)
        assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")

    @pytest.mark.parametrize("user_id", ["abc", "1.5", [1], {"id": 1}, None, True])
    def test_a_token_with_a_strange_user_id_is_a_401(self, api, ada, user_id):
        token = AccessToken.for_user(ada)
        token["user_id"] = user_id
        response = bearer(api, str(token)).get(ME)
        assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
        refresh = RefreshToken.for_user(ada)
        refresh["user_id"] = user_id
        assert api().post(REFRESH, {"refresh": str(refresh)}).status_code == 401

    def test_a_token_with_a_strange_session_id_is_a_401(self, api, ada):
        token = AccessToken.for_user(ada)
        token[SESSION_CLAIM] = "not-a-uuid"
        assert bearer(api, str(token)).get(ME).status_code == 401

    def test_a_token_naming_someone_elses_session_is_refused(self, api, ada, make_user):
        other = make_user()
        session_of_ada = AccessToken(login(api)["access"])[SESSION_CLAIM]
        forged = AccessToken.for_user(other)
        forged[SESSION_CLAIM] = session_of_ada
        assert bearer(api, str(forged)).get(ME).status_code == 401

    def test_a_malformed_authorization_header_has_its_own_code(self, api):
        client = api()
        client.credentials(HTTP_AUTHORIZATION="Bearer one two")
        response = client.get(ME)
        assert (response.status_code, response.json()["code"]) == (401, "bad_authorization_header")

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
    def test_the_scheme_is_case_insensitive(self, api, ada, scheme):
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {login(api)['access']}")
        assert client.get(ME).status_code == 200

    @pytest.mark.parametrize("header", ["Basic YWRhOnNlY3JldA==", "Token abc", "MFA abc", "JWT abc"])
    def test_another_scheme_is_a_bad_header_not_a_missing_one(self, api, header):
        client = api()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(ME)
        assert (response.status_code, response.json()["code"]) == (401, "bad_authorization_header")

    def test_the_enrolment_endpoints_still_take_their_own_scheme(self, api, ada):
        client = api()
        client.credentials(HTTP_AUTHORIZATION="mfa not-a-live-token")
        response = client.post("/api/v1/auth/2fa/totp/setup/")
        assert (response.status_code, response.json()["code"]) == (401, "mfa_token_invalid")
        client.credentials(HTTP_AUTHORIZATION="Basic YWRhOnNlY3JldA==")
        response = client.post("/api/v1/auth/2fa/totp/setup/")
        assert (response.status_code, response.json()["code"]) == (401, "bad_authorization_header")


def test_authentication_costs_one_query_where_the_auth_cache_does_not_serve(api, ada, settings):
    settings.AUTH_CACHE_SECONDS = 0  # and always on the embedded default's local-memory cache
    client = bearer(api, login(api)["access"])
    client.get(ME)
    with CaptureQueriesContext(connections["default"]) as queries:
        assert client.get(ME).status_code == 200
    assert len(queries) == 1, [query["sql"] for query in queries]


def test_refresh_tokens_are_not_stored_in_clear(api, ada):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    tokens = login(api)
    assert not OutstandingToken.objects.filter(token=tokens["refresh"]).exists()


def test_pruning_drops_only_sessions_whose_tokens_have_all_expired(api, ada, settings):
    login(api)
    old = AuthSession.objects.create(user=ada)
    AuthSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert sessions_prune() == 1
    assert AuthSession.objects.count() == 1


# --- A session's whole life -----------------------------------------------------------------------------
def age(session_of_tokens: dict, days: float) -> AuthSession:
    session_id = AccessToken(session_of_tokens["access"])[SESSION_CLAIM]
    AuthSession.objects.filter(pk=session_id).update(created_at=timezone.now() - timedelta(days=days))
    return AuthSession.objects.get(pk=session_id)


class TestSessionMaxLifetime:
    def test_rotation_within_the_lifetime_goes_on(self, api, ada, settings):
        settings.SESSION_MAX_LIFETIME_DAYS = 30
        tokens = login(api)
        age(tokens, 29)
        assert api().post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200

    def test_a_refresh_past_the_lifetime_ends_the_session(self, api, ada, settings, token_answers):
        settings.SESSION_MAX_LIFETIME_DAYS = 30
        tokens = login(api)
        rotated = api().post(REFRESH, {"refresh": tokens["refresh"]}).json()  # renewed yesterday, say
        session = age(rotated, 30.01)
        response = api().post(REFRESH, {"refresh": rotated["refresh"]})
        assert (response.status_code, response.json()["code"]) == (401, "session_ended")
        session.refresh_from_db()
        assert session.end_reason == AuthSession.EndReason.EXPIRED
        assert token_answers(rotated) == {"access": 401, "refresh": 401}
        assert login(api)["access"], "signing in again starts a new session"

    def test_pruning_drops_sessions_past_the_lifetime_though_refreshed_lately(self, api, ada, settings):
        settings.SESSION_MAX_LIFETIME_DAYS = 30
        old = AuthSession.objects.create(user=ada, last_refreshed_at=timezone.now())
        AuthSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
        young = AuthSession.objects.create(user=ada, last_refreshed_at=timezone.now())
        assert sessions_prune() == 1
        assert list(AuthSession.objects.values_list("pk", flat=True)) == [young.pk]


# --- REQUIRE_2FA_FOR_STAFF reaches sessions that exist ------------------------------------------------
@pytest.fixture
def grace(make_user):
    return make_user(email="grace@example.com", is_staff=True)


@pytest.fixture
def grace_tokens(api, grace, settings):
    """A session of a staff member without 2FA, from before the rule was turned on."""
    settings.REQUIRE_2FA_FOR_STAFF = False
    tokens = login(api, "grace@example.com")
    settings.REQUIRE_2FA_FOR_STAFF = True
    return tokens


def refused_for_enrolment(response) -> bool:
    return (response.status_code, response.json()["code"]) == (403, "mfa_enrolment_required")


class TestStaffWithoutTwoFactor:
    def test_their_access_token_is_refused_on_reads_and_writes(self, api, grace_tokens):
        client = bearer(api, grace_tokens["access"])
        assert refused_for_enrolment(client.get(ME))
        assert refused_for_enrolment(client.patch(ME, {"full_name": "Grace Hopper"}))

    def test_their_refresh_token_does_not_rotate(self, api, grace_tokens):
        response = api().post(REFRESH, {"refresh": grace_tokens["refresh"]})
        assert refused_for_enrolment(response)
        assert "access" not in response.json() and "mfa_token" not in response.json()

    def test_they_cannot_change_the_password_into_a_new_session(self, api, grace, grace_tokens):
        response = bearer(api, grace_tokens["access"]).post(
            "/api/v1/auth/password/change/",
            {"old_password": DEFAULT_PASSWORD, "new_password": "n3w-Pass-word!"},
        )
        assert refused_for_enrolment(response)
        grace.refresh_from_db()
        assert grace.check_password(DEFAULT_PASSWORD)
        assert AuthSession.objects.filter(user=grace).count() == 1

    def test_signing_in_again_leads_to_enrolment(self, api, grace_tokens):
        response = api().post(LOGIN, {"email": "grace@example.com", "password": DEFAULT_PASSWORD})
        assert refused_for_enrolment(response)
        assert response.json()["mfa_token"]

    def test_someone_promoted_to_staff_later_is_refused_at_once(self, api, ada, settings):
        settings.REQUIRE_2FA_FOR_STAFF = True
        tokens = login(api)
        client = bearer(api, tokens["access"])
        assert client.get(ME).status_code == 200
        ada.is_staff = True
        ada.save()
        assert refused_for_enrolment(client.get(ME))
        assert refused_for_enrolment(api().post(REFRESH, {"refresh": tokens["refresh"]}))

    def test_staff_whose_two_factor_is_turned_off_are_refused_at_once(self, api, grace, superuser, settings):
        from apps.accounts.models import TwoFactor
        from apps.accounts.services import session_start, two_factor_reset

        settings.REQUIRE_2FA_FOR_STAFF = True
        TwoFactor.objects.create(user=grace, totp_secret="x", totp_enabled_at=timezone.now())
        tokens = session_start(user=grace)  # as a finished two-factor sign-in starts it
        client = bearer(api, tokens["access"])
        assert client.get(ME).status_code == 200
        assert client.patch(ME, {"full_name": "Grace Hopper"}).status_code == 200
        assert two_factor_reset(user=grace, actor=superuser)
        assert refused_for_enrolment(client.get(ME))
        assert refused_for_enrolment(api().post(REFRESH, {"refresh": tokens["refresh"]}))

    def test_without_the_rule_their_session_goes_on(self, api, grace_tokens, settings, token_answers):
        settings.REQUIRE_2FA_FOR_STAFF = False
        assert token_answers(grace_tokens) == {"access": 200, "refresh": 200}

    def test_non_staff_are_not_asked_and_cost_no_extra_query(self, api, ada, settings):
        settings.REQUIRE_2FA_FOR_STAFF = True
        settings.AUTH_CACHE_SECONDS = 0
        client = bearer(api, login(api)["access"])
        with CaptureQueriesContext(connections["default"]) as queries:
            assert client.get(ME).status_code == 200
        assert len(queries) == 1
