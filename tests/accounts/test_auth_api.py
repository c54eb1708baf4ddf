"""auth/ endpoints: registration, sign-in, tokens, sign-out, password and email flows."""

import re
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.models import LoginEvent
from apps.logs.models import AuditLog
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

NEW_PASSWORD = "a-brand-new-passphrase-42"


def link_params(message) -> dict:
    uid, token = re.search(r"\?uid=([\w-]+)&token=([\w-]+)", message.body).groups()
    return {"uid": uid, "token": token}


def login(api, email, password=DEFAULT_PASSWORD):
    return api().post("/api/v1/auth/login/", {"email": email, "password": password})


# --- register -------------------------------------------------------------------------------------------
class TestRegister:
    url = "/api/v1/auth/register/"
    payload = {"email": "New.Person@Example.com", "username": "newperson", "password": "a-long-pass-phrase-7"}

    def test_creates_the_account_and_emails_a_verification_link(
        self, api, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api().post(self.url, {**self.payload, "full_name": "New Person"})
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "new.person@example.com", "stored and shown in its canonical form"
        assert body["email_verified_at"] is None
        assert "password" not in body
        user = User.objects.get(pk=body["id"])
        assert user.check_password(self.payload["password"])
        assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
        assert "verify-email?uid=" in mail.outbox[0].body
        assert AuditLog.objects.filter(action="user.register", target_id=str(user.pk)).exists()

    def test_privileged_fields_are_refused_by_name_and_nothing_is_created(self, api):
        privileged = {
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "email_verified_at": "2020-01-01T00:00:00Z",
            "groups": [1],
        }
        response = api().post(self.url, {**self.payload, **privileged})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == set(privileged)
        assert not User.objects.filter(email=self.payload["email"]).exists()

    @pytest.mark.parametrize("field", ["email", "username"])
    def test_taken_email_or_username_is_a_field_error_ignoring_case(self, api, make_user, field):
        make_user(email="new.person@example.com", username="NEWPERSON")
        other = {"email": "someone@example.com", "username": "someone"}
        response = api().post(self.url, {**self.payload, **{k: v for k, v in other.items() if k != field}})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == [field]

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short1", "too short"),
            ("password123", "too common"),
            ("84736251904", "entirely numeric"),
            ("newperson-1", "too similar"),
        ],
    )
    def test_weak_passwords_are_rejected_with_the_reason(self, api, password, message):
        response = api().post(self.url, {**self.payload, "password": password})
        assert response.status_code == 400
        assert message in " ".join(response.json()["field_errors"]["password"])
        assert not User.objects.exists()

    def test_missing_and_malformed_fields_are_field_errors(self, api):
        response = api().post(self.url, {"email": "not-an-email", "username": "has space"})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == {"email", "username", "password"}


# --- login ----------------------------------------------------------------------------------------------
class TestLogin:
    def test_returns_a_token_pair_and_records_the_login(self, api, make_user):
        user = make_user(email="ada@example.com")
        response = api().post(
            "/api/v1/auth/login/",
            {"email": "ADA@example.com", "password": DEFAULT_PASSWORD},
            HTTP_USER_AGENT="pytest-agent",
        )
        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}
        event = LoginEvent.objects.get()
        assert (event.user_id, event.success, event.user_agent, event.ip) == (
            user.pk,
            True,
            "pytest-agent",
            "127.0.0.1",
        )
        assert AuditLog.objects.filter(action="user.login", actor_id=user.pk).exists()
        user.refresh_from_db()
        assert user.last_login is not None

    def test_the_access_token_authenticates(self, api, make_user):
        make_user(email="ada@example.com")
        access = login(api, "ada@example.com").json()["access"]
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert client.get("/api/v1/users/me/").json()["email"] == "ada@example.com"

    @pytest.mark.parametrize(
        ("email", "password"), [("ada@example.com", "wrong"), ("nobody@example.com", "x")]
    )
    def test_wrong_credentials_are_401_and_recorded_as_failures(self, api, make_user, email, password):
        make_user(email="ada@example.com")
        response = login(api, email, password)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
        assert LoginEvent.objects.get().success is False

    def test_a_deactivated_account_cannot_sign_in(self, api, make_user):
        make_user(email="ada@example.com", is_active=False)
        assert login(api, "ada@example.com").status_code == 401

    def test_malformed_input_is_400(self, api):
        response = api().post("/api/v1/auth/login/", {"email": "nope"})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == {"email", "password"}

    def test_a_pbkdf2_hash_is_upgraded_to_argon2_on_login(self, api, make_user, settings):
        settings.PASSWORD_HASHERS = [
            "apps.accounts.hashers.Argon2idPasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ]
        from django.contrib.auth.hashers import make_password

        user = make_user(email="ada@example.com")
        User.objects.filter(pk=user.pk).update(
            password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
        )
        assert login(api, "ada@example.com").status_code == 200
        user.refresh_from_db()
        assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=2,p=1$")


# --- logout ---------------------------------------------------------------------------------------------
class TestLogout:
    def test_kills_the_refresh_token(self, api, make_user):
        user = make_user(email="ada@example.com")
        refresh = login(api, "ada@example.com").json()["refresh"]
        assert api(user).post("/api/v1/auth/logout/", {"refresh": refresh}).status_code == 204
        assert api().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401
        assert AuditLog.objects.filter(action="user.logout", actor_id=user.pk).exists()

    def test_needs_authentication(self, api):
        assert api().post("/api/v1/auth/logout/", {"refresh": "x"}).status_code == 401

    def test_someone_elses_refresh_token_is_refused(self, api, make_user):
        make_user(email="ada@example.com")
        mallory = make_user()
        refresh = login(api, "ada@example.com").json()["refresh"]
        response = api(mallory).post("/api/v1/auth/logout/", {"refresh": refresh})
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"
        assert api().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 200

    def test_a_garbage_token_is_a_401_as_at_refresh(self, api, make_user):
        response = api(make_user()).post("/api/v1/auth/logout/", {"refresh": "garbage"})
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"

    def test_a_refresh_token_already_signed_out_is_a_401(self, api, make_user):
        user = make_user(email="ada@example.com")
        refresh = login(api, "ada@example.com").json()["refresh"]
        assert api(user).post("/api/v1/auth/logout/", {"refresh": refresh}).status_code == 204
        response = api(user).post("/api/v1/auth/logout/", {"refresh": refresh})
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


# --- password change ------------------------------------------------------------------------------------
class TestPasswordChange:
    url = "/api/v1/auth/password/change/"

    def test_changes_the_password_and_revokes_every_token(self, api, make_user):
        user = make_user(email="ada@example.com")
        tokens = login(api, "ada@example.com").json()
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        response = client.post(self.url, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert api().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
        assert client.get("/api/v1/users/me/").status_code == 401, (
            "the old access token died with the password"
        )
        assert login(api, "ada@example.com", NEW_PASSWORD).status_code == 200
        entry = AuditLog.objects.get(action="user.password_change")
        assert NEW_PASSWORD not in str(entry.changes)

    def test_the_session_that_changed_it_gets_a_fresh_pair(self, api, make_user):
        make_user(email="ada@example.com")
        tokens = login(api, "ada@example.com").json()
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        fresh = client.post(self.url, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}).json()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
        assert client.get("/api/v1/users/me/").status_code == 200
        assert api().post("/api/v1/auth/token/refresh/", {"refresh": fresh["refresh"]}).status_code == 200
        entry = AuditLog.objects.get(action="user.password_change")
        assert NEW_PASSWORD not in str(entry.changes)

    def test_wrong_current_password_is_a_field_error(self, api, make_user):
        response = api(make_user()).post(self.url, {"old_password": "wrong", "new_password": NEW_PASSWORD})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["old_password"]

    def test_weak_new_password_is_a_field_error(self, api, make_user):
        response = api(make_user()).post(self.url, {"old_password": DEFAULT_PASSWORD, "new_password": "123"})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["new_password"]

    def test_needs_authentication(self, api):
        assert api().post(self.url, {"old_password": "a", "new_password": "b"}).status_code == 401


# --- password reset -------------------------------------------------------------------------------------
class TestPasswordReset:
    def request_reset(self, api, email, capture):
        with capture(execute=True):
            return api().post("/api/v1/auth/password/reset/", {"email": email})

    def test_emails_a_single_use_link_that_sets_a_new_password(
        self, api, make_user, django_capture_on_commit_callbacks
    ):
        user = make_user(email="ada@example.com")
        refresh = login(api, "ada@example.com").json()["refresh"]
        assert (
            self.request_reset(api, "ADA@example.com", django_capture_on_commit_callbacks).status_code == 202
        )
        params = link_params(mail.outbox[0])

        confirm = {**params, "new_password": NEW_PASSWORD}
        assert api().post("/api/v1/auth/password/reset/confirm/", confirm).status_code == 204
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert user.email_verified_at is not None, "following the emailed link proves the address"
        assert api().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401
        again = api().post(
            "/api/v1/auth/password/reset/confirm/", {**confirm, "new_password": "another-pass-99x"}
        )
        assert again.status_code == 400
        assert "token" in again.json()["field_errors"]
        assert AuditLog.objects.filter(action="user.password_reset", target_id=str(user.pk)).exists()

    def test_an_unknown_email_gets_the_same_answer_and_no_email(
        self, api, make_user, django_capture_on_commit_callbacks
    ):
        response = self.request_reset(api, "nobody@example.com", django_capture_on_commit_callbacks)
        assert response.status_code == 202
        assert mail.outbox == []

    def test_the_link_expires(
        self, api, make_user, settings, django_capture_on_commit_callbacks, monkeypatch
    ):
        make_user(email="ada@example.com")
        self.request_reset(api, "ada@example.com", django_capture_on_commit_callbacks)
        params = link_params(mail.outbox[0])
        # Django's token clock is naive local time.
        later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
        monkeypatch.setattr("django.contrib.auth.tokens.PasswordResetTokenGenerator._now", lambda self: later)
        response = api().post(
            "/api/v1/auth/password/reset/confirm/", {**params, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 400

    @pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5", "x" * 60])
    def test_a_bad_uid_is_a_400_not_a_500(self, api, uid):
        response = api().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": "abc-def", "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 400

    def test_weak_new_password_is_a_field_error(self, api, make_user, django_capture_on_commit_callbacks):
        make_user(email="ada@example.com")
        self.request_reset(api, "ada@example.com", django_capture_on_commit_callbacks)
        response = api().post(
            "/api/v1/auth/password/reset/confirm/",
            {**link_params(mail.outbox[0]), "new_password": "12345678"},
        )
        assert response.status_code == 400
        assert "new_password" in response.json()["field_errors"]


# --- email verification ---------------------------------------------------------------------------------
class TestEmailVerification:
    def register(self, api, capture):
        with capture(execute=True):
            api().post(
                "/api/v1/auth/register/",
                {"email": "ada@example.com", "username": "ada", "password": "a-long-pass-phrase-7"},
            )
        return User.objects.get(email="ada@example.com")

    def test_the_emailed_link_verifies_the_address_once(self, api, django_capture_on_commit_callbacks):
        user = self.register(api, django_capture_on_commit_callbacks)
        params = link_params(mail.outbox[0])
        with django_capture_on_commit_callbacks(execute=True):
            assert api().post("/api/v1/auth/email/verify/", params).status_code == 204
        user.refresh_from_db()
        assert user.email_verified_at is not None
        assert mail.outbox[-1].subject.startswith("Welcome")
        assert api().post("/api/v1/auth/email/verify/", params).status_code == 400
        assert AuditLog.objects.filter(action="user.email_verify", actor_id=user.pk).exists()

    def test_a_tampered_token_is_refused(self, api, django_capture_on_commit_callbacks):
        user = self.register(api, django_capture_on_commit_callbacks)
        params = link_params(mail.outbox[0])
        response = api().post("/api/v1/auth/email/verify/", {**params, "token": params["token"][:-2] + "xx"})
        assert response.status_code == 400
        user.refresh_from_db()
        assert user.email_verified_at is None

    def test_resend_emails_a_fresh_link(self, api, make_user, django_capture_on_commit_callbacks):
        user = make_user()
        with django_capture_on_commit_callbacks(execute=True):
            assert api(user).post("/api/v1/auth/email/verify/resend/").status_code == 202
        assert mail.outbox[0].to == [user.email]

    def test_resend_for_a_verified_address_is_409(self, api, make_user):
        user = make_user(email_verified_at=timezone.now())
        assert api(user).post("/api/v1/auth/email/verify/resend/").status_code == 409

    def test_resend_needs_authentication(self, api):
        assert api().post("/api/v1/auth/email/verify/resend/").status_code == 401

    def test_the_email_is_multipart_with_text_and_html(self, api, django_capture_on_commit_callbacks):
        self.register(api, django_capture_on_commit_callbacks)
        message = mail.outbox[0]
        assert "&amp;" not in message.body, "the plain-text part must not be HTML-escaped"
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert "verify-email?uid=" in html
