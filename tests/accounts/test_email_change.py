"""Changing the email address: password first, a link to the new address, a word to the old one."""

import re

import pytest
from django.core import mail

from apps.accounts.models import User
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

CHANGE = "/api/v1/auth/email/change/"
CONFIRM = "/api/v1/auth/email/change/confirm/"


@pytest.fixture
def ada(make_user):
    return make_user(email="ada@example.com", email_verified_at=None)


def request_change(api, user, capture, new_email="ada@new.example.com", password=DEFAULT_PASSWORD):
    with capture(execute=True):
        return api(user).post(CHANGE, {"new_email": new_email, "password": password})


def link_token(message) -> str:
    return re.search(r"confirm-email-change\?token=(\S+)", message.body).group(1)


def test_a_link_goes_to_the_new_address_and_a_notice_to_the_old(api, ada, django_capture_on_commit_callbacks):
    response = request_change(api, ada, django_capture_on_commit_callbacks, new_email="Ada@New.Example.com")
    assert response.status_code == 202
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["ada@example.com", "ada@new.example.com"]
    ada.refresh_from_db()
    assert ada.email == "ada@example.com", "nothing changes before the link is followed"


def test_following_the_link_changes_and_verifies_the_address(api, ada, django_capture_on_commit_callbacks):
    request_change(api, ada, django_capture_on_commit_callbacks)
    confirmation = next(m for m in mail.outbox if m.to == ["ada@new.example.com"])
    assert api().post(CONFIRM, {"token": link_token(confirmation)}).status_code == 204
    ada.refresh_from_db()
    assert ada.email == "ada@new.example.com" and ada.email_verified_at is not None
    entry = AuditLog.objects.get(action="user.email_change")
    assert entry.changes == {"email": ["ada@example.com", "ada@new.example.com"]}
    assert (
        api()
        .post("/api/v1/auth/login/", {"email": "ada@new.example.com", "password": DEFAULT_PASSWORD})
        .status_code
        == 200
    )


def test_the_link_works_once(api, ada, django_capture_on_commit_callbacks):
    request_change(api, ada, django_capture_on_commit_callbacks)
    token = link_token(next(m for m in mail.outbox if m.to == ["ada@new.example.com"]))
    assert api().post(CONFIRM, {"token": token}).status_code == 204
    again = api().post(CONFIRM, {"token": token})
    assert again.status_code == 400
    assert list(again.json()["field_errors"]) == ["token"]


def test_a_password_change_kills_a_pending_link(api, ada, django_capture_on_commit_callbacks):
    request_change(api, ada, django_capture_on_commit_callbacks)
    token = link_token(next(m for m in mail.outbox if m.to == ["ada@new.example.com"]))
    ada.set_password("another-long-pass-phrase-3")
    ada.save()
    assert api().post(CONFIRM, {"token": token}).status_code == 400


def test_an_address_taken_in_the_meantime_is_a_conflict(
    api, ada, make_user, django_capture_on_commit_callbacks
):
    request_change(api, ada, django_capture_on_commit_callbacks)
    token = link_token(next(m for m in mail.outbox if m.to == ["ada@new.example.com"]))
    make_user(email="ada@new.example.com")
    response = api().post(CONFIRM, {"token": token})
    assert (response.status_code, response.json()["code"]) == (409, "conflict")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_email": "ada@new.example.com", "password": "wrong"}, "password"),
        ({"new_email": "ada@example.com", "password": DEFAULT_PASSWORD}, "new_email"),
        ({"new_email": "not-an-address", "password": DEFAULT_PASSWORD}, "new_email"),
    ],
)
def test_bad_requests_are_field_errors_and_send_nothing(
    api, ada, body, field, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(ada).post(CHANGE, body)
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == [field]
    assert mail.outbox == []


def test_an_address_of_another_account_is_refused(api, ada, make_user):
    make_user(email="grace@example.com")
    response = api(ada).post(CHANGE, {"new_email": "GRACE@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["new_email"]


@pytest.mark.parametrize("token", ["garbage", "a" * 200, ""])
def test_a_bad_token_is_a_field_error(api, token):
    response = api().post(CONFIRM, {"token": token})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["token"]


def test_the_request_needs_a_signed_in_user(api):
    assert api().post(CHANGE, {"new_email": "x@example.com", "password": "x"}).status_code == 401


def test_nobody_else_can_confirm_a_change_for_a_deactivated_account(
    api, ada, django_capture_on_commit_callbacks
):
    request_change(api, ada, django_capture_on_commit_callbacks)
    token = link_token(next(m for m in mail.outbox if m.to == ["ada@new.example.com"]))
    User.objects.filter(pk=ada.pk).update(is_active=False)
    assert api().post(CONFIRM, {"token": token}).status_code == 400
