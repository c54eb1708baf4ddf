"""`auth/sessions/`: a user sees where their account is signed in and ends any of those sessions."""

import uuid

import pytest
from django.utils import timezone

from apps.accounts.models import AuthSession
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

SESSIONS = "/api/v1/auth/sessions/"
LOGIN = "/api/v1/auth/login/"


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.com")


def login(api, user_agent="phone/1.0", ip="203.0.113.7"):
    response = api().post(
        LOGIN,
        {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(api, tokens):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def session_of(tokens) -> AuthSession:
    from rest_framework_simplejwt.tokens import AccessToken

    return AuthSession.objects.get(pk=AccessToken(tokens["access"])["sid"])


class TestListing:
    def test_lists_the_live_sessions_newest_first_and_marks_the_current_one(self, api, ada):
        phone = login(api, "phone/1.0")
        laptop = login(api, "laptop/2.0")
        response = bearer(api, phone).get(SESSIONS)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 2
        assert [row["user_agent"] for row in body["results"]] == ["laptop/2.0", "phone/1.0"]
        assert [row["current"] for row in body["results"]] == [False, True]
        row = body["results"][1]
        assert row["id"] == str(session_of(phone).pk)
        assert set(row) == {
            "id",
            "created_at",
            "last_refreshed_at",
            "ended_at",
            "end_reason",
            "ip",
            "user_agent",
            "current",
        }
        assert row["ended_at"] is None
        assert row["end_reason"] is None
        assert session_of(laptop).is_live

    def test_the_last_refresh_is_shown(self, api, ada):
        tokens = login(api)
        tokens = api().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()
        row = bearer(api, tokens).get(SESSIONS).json()["results"][0]
        assert row["last_refreshed_at"] is not None
        assert row["current"] is True

    def test_ended_sessions_are_left_out_unless_asked_for(self, api, ada):
        old = login(api)
        assert bearer(api, old).post("/api/v1/auth/logout/", {"refresh": old["refresh"]}).status_code == 204
        client = bearer(api, login(api))
        assert client.get(SESSIONS).json()["count"] == 1
        everything = client.get(SESSIONS, {"include_ended": "true"}).json()["results"]
        assert [row["end_reason"] for row in everything] == [None, "logout"]
        assert everything[1]["ended_at"] is not None
        assert client.get(SESSIONS, {"include_ended": "false"}).json()["count"] == 1

    @pytest.mark.parametrize("value", ["yes", "1", ""])
    def test_include_ended_takes_true_or_false_only(self, api, ada, value):
        response = bearer(api, login(api)).get(SESSIONS, {"include_ended": value})
        assert response.status_code == 400
        assert "include_ended" in response.json()["field_errors"]

    def test_nobody_sees_anyone_elses_sessions(self, api, ada, make_user, sign_in):
        sign_in(make_user())
        body = bearer(api, login(api)).get(SESSIONS).json()
        assert body["count"] == 1

    def test_is_paginated_with_a_constant_number_of_queries(
        self, api, ada, sign_in, django_assert_max_num_queries
    ):
        for _ in range(12):
            sign_in(ada)
        client = bearer(api, login(api))
        for size in (2, 10):
            with django_assert_max_num_queries(3):  # the user by token, count, page
                response = client.get(SESSIONS, {"page_size": size})
            assert len(response.json()["results"]) == size
            assert response.json()["count"] == 13


class TestEnding:
    def test_ending_another_session_kills_its_tokens_at_once(self, api, ada, token_answers):
        phone, laptop = login(api), login(api)
        phone_session = session_of(phone)
        response = bearer(api, laptop).delete(f"{SESSIONS}{phone_session.pk}/")
        assert response.status_code == 204, response.content
        assert token_answers(phone) == {"access": 401, "refresh": 401}
        assert token_answers(laptop) == {"access": 200, "refresh": 200}
        phone_session.refresh_from_db()
        assert phone_session.end_reason == AuthSession.EndReason.LOGOUT

    def test_the_access_token_is_refused_as_session_ended(self, api, ada):
        phone, laptop = login(api), login(api)
        client = bearer(api, phone)
        assert client.get("/api/v1/users/me/").status_code == 200  # cached as live, where there is a cache
        bearer(api, laptop).delete(f"{SESSIONS}{session_of(phone).pk}/")
        response = client.get("/api/v1/users/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "session_ended"

    def test_ending_the_current_session_signs_out(self, api, ada, token_answers):
        tokens = login(api)
        response = bearer(api, tokens).delete(f"{SESSIONS}{session_of(tokens).pk}/")
        assert response.status_code == 204
        assert token_answers(tokens) == {"access": 401, "refresh": 401}

    def test_it_is_audited_like_a_sign_out(self, api, ada):
        phone, laptop = login(api), login(api)
        session = session_of(phone)
        bearer(api, laptop).delete(f"{SESSIONS}{session.pk}/")
        entry = AuditLog.objects.get(action="user.logout")
        assert entry.actor_id == ada.pk
        assert entry.target_id == str(ada.pk)
        assert entry.changes == {"session": [str(session.pk), None]}

    def test_ending_an_ended_session_again_changes_nothing(self, api, ada):
        phone, laptop = login(api), login(api)
        client = bearer(api, laptop)
        url = f"{SESSIONS}{session_of(phone).pk}/"
        assert client.delete(url).status_code == 204
        ended_at = session_of(phone).ended_at
        assert client.delete(url).status_code == 204
        assert session_of(phone).ended_at == ended_at
        assert AuditLog.objects.filter(action="user.logout").count() == 1

    def test_someone_elses_session_is_404_and_lives_on(self, api, ada, make_user, sign_in, token_answers):
        theirs = sign_in(make_user())
        response = bearer(api, login(api)).delete(f"{SESSIONS}{session_of(theirs).pk}/")
        assert response.status_code == 404
        assert token_answers(theirs) == {"access": 200, "refresh": 200}

    def test_an_unknown_session_is_404(self, api, ada):
        response = bearer(api, login(api)).delete(f"{SESSIONS}{uuid.uuid4()}/")
        assert response.status_code == 404

    @pytest.mark.parametrize("session_id", ["not-a-uuid", "123", "%00"])
    def test_a_malformed_id_is_404(self, api, ada, session_id):
        response = bearer(api, login(api)).delete(f"{SESSIONS}{session_id}/")
        assert response.status_code == 404

    def test_other_sessions_live_on(self, api, ada, token_answers):
        phone, laptop, tablet = login(api), login(api), login(api)
        bearer(api, laptop).delete(f"{SESSIONS}{session_of(phone).pk}/")
        assert token_answers(tablet) == {"access": 200, "refresh": 200}
        assert AuthSession.objects.filter(ended_at__isnull=True).count() == 2
        assert AuthSession.objects.filter(ended_at__lte=timezone.now()).count() == 1
