"""JWT edge cases: rotation, reuse, revocation, tampering, and the refresh race."""

import base64
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

REFRESH_URL = "/api/v1/auth/token/refresh/"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bearer(api, token: str) -> APIClient:
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.com")


@pytest.fixture
def tokens(api, ada):
    return api().post("/api/v1/auth/login/", {"email": ada.email, "password": DEFAULT_PASSWORD}).json()


def test_refresh_rotates_the_pair(api, tokens):
    response = api().post(REFRESH_URL, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(api, rotated["access"]).get("/api/v1/users/me/").status_code == 200


def test_a_rotated_refresh_token_cannot_be_used_again(api, tokens):
    assert api().post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 200
    response = api().post(REFRESH_URL, {"refresh": tokens["refresh"]})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_expired_refresh_token_is_401(api, ada):
    refresh = RefreshToken.for_user(ada)
    refresh.set_exp(lifetime=-timedelta(seconds=1))
    assert api().post(REFRESH_URL, {"refresh": str(refresh)}).status_code == 401


def test_a_refresh_token_for_a_deactivated_user_is_401(api, ada, tokens):
    ada.is_active = False
    ada.save()
    assert api().post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_a_refresh_token_of_a_deleted_user_is_401_not_500(api, ada, tokens):
    ada.delete()
    assert api().post(REFRESH_URL, {"refresh": tokens["refresh"]}).status_code == 401


def test_an_access_token_is_not_a_refresh_token(api, tokens):
    assert api().post(REFRESH_URL, {"refresh": tokens["access"]}).status_code == 401


def test_a_refresh_token_is_not_an_access_token(api, tokens):
    assert bearer(api, tokens["refresh"]).get("/api/v1/users/me/").status_code == 401


def test_a_deactivated_user_is_refused_at_once_with_a_valid_access_token(api, ada, tokens):
    client = bearer(api, tokens["access"])
    assert client.get("/api/v1/users/me/").status_code == 200
    ada.is_active = False
    ada.save()
    assert client.get("/api/v1/users/me/").status_code == 401


def test_an_expired_access_token_is_401(api, ada):
    access = AccessToken.for_user(ada)
    access.set_exp(lifetime=-timedelta(seconds=1))
    assert bearer(api, str(access)).get("/api/v1/users/me/").status_code == 401


def test_a_tampered_access_token_is_401(api, ada, tokens):
    header, payload, signature = tokens["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = str(ada.pk + 1)
    assert bearer(api, f"{header}.{b64(claims)}.{signature}").get("/api/v1/users/me/").status_code == 401


def test_an_alg_none_token_is_401(api, tokens):
    _, payload, _ = tokens["access"].split(".")
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    assert bearer(api, unsigned).get("/api/v1/users/me/").status_code == 401


def test_a_token_signed_with_another_key_is_401(api, ada, settings):
    import jwt

    claims = dict(AccessToken.for_user(ada).payload)
    forged = jwt.encode(claims, "not-our-key-but-long-enough-for-hs256-0123456789", algorithm="HS256")
    assert bearer(api, forged).get("/api/v1/users/me/").status_code == 401


class TestVerifiedAccessTokens:
    """An access token's signature is checked once per worker; everything else, every time."""

    @pytest.fixture
    def decodes(self, monkeypatch):
        from rest_framework_simplejwt import backends

        calls = []
        original = backends.jwt.decode
        monkeypatch.setattr(backends.jwt, "decode", lambda *a, **kw: calls.append(1) or original(*a, **kw))
        return calls

    def test_a_token_presented_again_is_not_decoded_again(self, api, tokens, decodes):
        client = bearer(api, tokens["access"])
        assert [client.get("/api/v1/users/me/").status_code for _ in range(3)] == [200, 200, 200]
        assert decodes == [1]

    def test_a_token_that_fails_verification_is_checked_every_time(self, api, tokens, decodes):
        header, payload, _ = tokens["access"].split(".")
        forged = bearer(api, f"{header}.{payload}.{b64({'not': 'a signature'})}")
        assert [forged.get("/api/v1/users/me/").status_code for _ in range(2)] == [401, 401]
        assert decodes == [1, 1]

    def test_a_remembered_token_is_refused_once_it_expires(self, api, ada):
        access = AccessToken.for_user(ada)
        access.set_exp(lifetime=timedelta(seconds=2))
        client = bearer(api, str(access))
        assert client.get("/api/v1/users/me/").status_code == 200
        time.sleep(max(0.0, access["exp"] - time.time()) + 0.05)
        response = client.get("/api/v1/users/me/")
        assert (response.status_code, response.json()["code"]) == (401, "token_expired")

    def test_a_remembered_token_is_refused_after_a_sign_out(self, api, tokens):
        client = bearer(api, tokens["access"])
        assert client.get("/api/v1/users/me/").status_code == 200
        assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
        assert client.get("/api/v1/users/me/").status_code == 401

    def test_the_token_handed_out_is_a_copy_of_what_was_verified(self, tokens):
        from apps.accounts.jwt import access_token_decode

        first = access_token_decode(tokens["access"])
        first["user_id"] = "someone else"
        assert access_token_decode(tokens["access"])["user_id"] != "someone else"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real row lock needs PostgreSQL")
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_concurrent_refreshes_of_one_token_cannot_both_succeed(make_user):
    ada = make_user(email="race@example.com")
    threads_per_round, rounds = 4, 5
    for _ in range(rounds):
        refresh = str(RefreshToken.for_user(ada))
        barrier = threading.Barrier(threads_per_round)
        statuses: list[int] = []

        def refresh_once(token=refresh, barrier=barrier, statuses=statuses):
            try:
                barrier.wait()
                statuses.append(APIClient().post(REFRESH_URL, {"refresh": token}).status_code)
            finally:
                connections.close_all()

        workers = [threading.Thread(target=refresh_once) for _ in range(threads_per_round)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert sorted(statuses) == [200] + [401] * (threads_per_round - 1)
