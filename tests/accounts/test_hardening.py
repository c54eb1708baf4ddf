"""Input and abuse cases found in review: each once produced a 500, a bypass or a lockout."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.accounts.models import User
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_stale_access_token_does_not_block_login_or_refresh(api, make_user):
    user = make_user(email="ada@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    login = client.post("/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert login.status_code == 200
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": login.json()["refresh"]}).status_code == 200


def test_wrong_credentials_stay_401_on_the_token_free_endpoints(api):
    response = api().post("/api/v1/auth/login/", {"email": "nobody@example.com", "password": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_broker_outage_after_commit_does_not_turn_a_registration_into_a_500(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("apps.notifications.tasks.deliver.delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api().post(
            "/api/v1/auth/register/",
            {"email": "new@example.com", "username": "new", "password": "a-long-pass-phrase-7"},
        )
    assert response.status_code == 201
    assert User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("field", ["email", "username"])
def test_nul_bytes_are_a_field_error_on_every_database(api, field):
    payload = {"email": "new@example.com", "username": "new", "password": "a-long-pass-phrase-7"}
    payload[field] = "ne\x00w" + ("@example.com" if field == "email" else "")
    response = api().post("/api/v1/auth/register/", payload)
    assert response.status_code == 400
    assert field in response.json()["field_errors"]


def test_nul_bytes_in_a_profile_update_are_a_field_error(api, make_user):
    response = api(make_user()).patch("/api/v1/users/me/", {"username": "a\x00b"})
    assert response.status_code == 400


def test_lookalike_unicode_emails_do_not_sign_in_as_someone_else(api, make_user):
    make_user(email="admin@example.com")
    response = api().post(
        "/api/v1/auth/login/", {"email": "adm\u0131n@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 401


def test_email_uniqueness_ignores_case_the_same_way_everywhere(api, make_user):
    make_user(email="ada@example.com")
    response = api().post(
        "/api/v1/auth/register/",
        {"email": "ADA@EXAMPLE.COM", "username": "x", "password": "a-long-pass-phrase-7"},
    )
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["email"]


def test_password_checks_with_a_stolen_token_are_throttled(api, make_user):
    client = api(make_user())
    statuses = [
        client.post(
            "/api/v1/auth/password/change/", {"old_password": "guess", "new_password": "x"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    assert client.delete("/api/v1/users/me/", {"password": "guess"}).status_code == 429


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_staff_without_superuser_rights_cannot_touch_a_superuser(api, make_user, method):
    root = make_user(is_superuser=True, is_staff=True)
    staff = make_user("accounts.change_user", "accounts.delete_user")
    response = getattr(api(staff), method)(
        f"/api/v1/users/{root.pk}/", {"full_name": "pwned", "is_active": False}
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.full_name != "pwned"


def test_accounts_without_a_usable_password_get_no_reset_email(
    api, make_user, django_capture_on_commit_callbacks
):
    user = make_user(email="sso@example.com")
    user.set_unusable_password()
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert api().post("/api/v1/auth/password/reset/", {"email": "sso@example.com"}).status_code == 202
    assert mail.outbox == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real row lock needs PostgreSQL")
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_reset_link_used_twice_at_once_works_once(make_user, django_capture_on_commit_callbacks):
    make_user(email="race@example.com")
    APIClient().post("/api/v1/auth/password/reset/", {"email": "race@example.com"})
    uid, token = re.search(r"\?uid=([\w-]+)&token=([\w-]+)", mail.outbox[0].body).groups()
    threads, statuses = 4, []
    barrier = threading.Barrier(threads)

    def confirm(n):
        try:
            barrier.wait()
            payload = {"uid": uid, "token": token, "new_password": f"a-new-pass-phrase-{n}x"}
            statuses.append(APIClient().post("/api/v1/auth/password/reset/confirm/", payload).status_code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=confirm, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(statuses) == [204] + [400] * (threads - 1)
