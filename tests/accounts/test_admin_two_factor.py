"""Two-factor sign-in on the admin site: the code step, staff enrolment, and the user admin's view
and reset of it."""

import re
import time
from typing import NamedTuple

import pyotp
import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.models import RecoveryCode, TwoFactor, TwoFactorChallenge, User
from apps.accounts.services import totp_confirm, totp_setup
from apps.accounts.throttles import LoginThrottle
from apps.analytics.models import LoginEvent
from apps.logs.models import AuditLog
from apps.notifications import sms
from tests.conftest import DEFAULT_PASSWORD, grant

# Sign-ins are LoginEvents in the analytics database, resets AuditLog rows in the logs database.
pytestmark = pytest.mark.django_db(databases="__all__")

LOGIN, VERIFY, ENROL = "/admin/login/", "/admin/login/verify/", "/admin/login/enrol/"
CHANGELIST = "/admin/accounts/user/"


class Enrolled(NamedTuple):
    user: User
    secret: str
    recovery_codes: list[str]


def code_of(secret: str, steps: int = 0) -> str:
    """The authenticator code of the time step `steps` away from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def wrong_code(secret: str) -> str:
    """Six digits that no step the check accepts now has for its code."""
    near = {code_of(secret, steps) for steps in range(-2, 3)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in near)


def enrol(user: User) -> Enrolled:
    """Turn on the authenticator app of `user` as the API does, with the previous step's code, so
    that the current step's code is still unused."""
    secret = totp_setup(user=user)["secret"]
    result = totp_confirm(user=user, code=code_of(secret, -1), password=DEFAULT_PASSWORD)
    return Enrolled(user, secret, result["recovery_codes"])


@pytest.fixture
def staff(make_user):
    return make_user(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def enrolled(staff) -> Enrolled:
    return enrol(staff)


def password_step(client, user, **extra):
    """Post the login form as the admin's page does, `next` included."""
    return client.post(
        LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD, "next": "/admin/", **extra}
    )


def signed_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events() -> list[tuple]:
    return list(LoginEvent.objects.order_by("pk").values_list("method", "success", "mfa_pending", "user_id"))


# --- The code step ----------------------------------------------------------------------------------------
def test_a_right_password_asks_for_the_code_and_signs_nobody_in(client, enrolled):
    response = password_step(client, enrolled.user)
    assert response.status_code == 302
    assert response["Location"] == VERIFY, "the mfa_token stays in the session, out of the URL"
    assert signed_in_as(client) is None
    assert client.get("/admin/").status_code == 302, "the admin index still wants a sign-in"
    page = client.get(VERIFY)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Enter the code your authenticator app shows or one of your recovery codes." in html
    assert "Text me a code" not in html, "no SMS for an account without text message codes"
    assert client.session["admin_second_step"]["mfa_token"] not in html


def test_a_wrong_password_of_a_two_factor_account_is_the_form_again(client, enrolled):
    response = client.post(LOGIN, {"username": enrolled.user.email, "password": "wrong", "next": "/admin/"})
    assert response.status_code == 200
    assert not TwoFactorChallenge.objects.exists()
    assert events() == [("admin", False, False, enrolled.user.pk)]


def test_a_right_password_before_the_code_does_not_count_as_a_failure(client, enrolled):
    for _ in range(6):
        assert password_step(client, enrolled.user)["Location"] == VERIFY


def test_the_right_authenticator_code_signs_in_and_goes_on_to_next(client, enrolled):
    password_step(client, enrolled.user, next="/admin/accounts/user/")
    response = client.post(VERIFY, {"code": code_of(enrolled.secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/"
    assert signed_in_as(client) == enrolled.user.pk
    assert client.get("/admin/").status_code == 200
    enrolled.user.refresh_from_db()
    assert enrolled.user.last_login is not None


def test_an_outside_next_is_not_followed(client, enrolled):
    password_step(client, enrolled.user, next="https://evil.example/")
    response = client.post(VERIFY, {"code": code_of(enrolled.secret)})
    assert response["Location"] == "/admin/"


def test_a_wrong_code_shows_the_form_again_with_the_error(client, enrolled):
    password_step(client, enrolled.user)
    response = client.post(VERIFY, {"code": wrong_code(enrolled.secret)})
    assert response.status_code == 200
    assert "This code is wrong; 4 tries left." in response.content.decode()
    assert signed_in_as(client) is None


def test_the_last_wrong_code_sends_back_to_the_password(client, enrolled, settings):
    settings.MFA_TOKEN_MAX_ATTEMPTS = 1
    password_step(client, enrolled.user)
    response = client.post(VERIFY, {"code": "abcdef"}, follow=True)
    assert response.redirect_chain == [("/admin/login/?next=%2Fadmin%2F", 302)]
    assert "This code is wrong, and that was the last try; sign in again." in messages_of(response)
    assert signed_in_as(client) is None
    assert client.get(VERIFY)["Location"] == LOGIN, "the used-up token is gone from the session"


def test_an_expired_sign_in_sends_back_to_the_password_with_a_message(client, enrolled):
    password_step(client, enrolled.user, next="/admin/accounts/user/")
    TwoFactorChallenge.objects.update(expires_at=timezone.now())
    response = client.get(VERIFY, follow=True)
    assert response.redirect_chain == [("/admin/login/?next=%2Fadmin%2Faccounts%2Fuser%2F", 302)]
    assert "This sign-in has expired; sign in again." in messages_of(response)
    response = client.post(VERIFY, {"code": code_of(enrolled.secret)})
    assert response["Location"] == LOGIN
    assert signed_in_as(client) is None


def test_without_a_password_step_the_code_step_sends_to_the_password(client, enrolled):
    assert client.get(VERIFY)["Location"] == LOGIN
    assert client.post(VERIFY, {"code": code_of(enrolled.secret)})["Location"] == LOGIN
    assert signed_in_as(client) is None


def test_a_recovery_code_signs_in_once(client, enrolled):
    code = enrolled.recovery_codes[0]
    password_step(client, enrolled.user)
    assert client.post(VERIFY, {"code": code.upper()})["Location"] == "/admin/"
    assert signed_in_as(client) == enrolled.user.pk
    client.logout()
    password_step(client, enrolled.user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert signed_in_as(client) is None
    assert RecoveryCode.objects.filter(user=enrolled.user, used_at__isnull=True).count() == 9


def test_text_me_a_code_sends_one_that_signs_in(client, make_user, django_capture_on_commit_callbacks):
    user = make_user(is_staff=True, phone="+447700900123", phone_verified_at=timezone.now())
    TwoFactor.objects.create(user=user, sms_enabled_at=timezone.now())
    password_step(client, user)
    page = client.get(VERIFY)
    assert b"Text me a code" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY, {"send_sms": "1"}, follow=True)
    assert response.redirect_chain == [(VERIFY, 302)]
    assert "We are texting a code to your phone." in messages_of(response)
    assert [message.to for message in sms.outbox] == ["+447700900123"]
    code = re.search(r"\b(\d{6})\b", sms.outbox[0].body).group(1)
    assert code not in response.content.decode()
    assert client.post(VERIFY, {"code": code})["Location"] == "/admin/"
    assert signed_in_as(client) == user.pk
    assert events()[-1] == ("sms", True, False, user.pk)


def test_the_code_step_has_the_login_limit_per_ip(client, enrolled, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "3/minute", raising=False)
    password_step(client, enrolled.user)  # the first of the three
    statuses = [client.post(VERIFY, {"code": "abcdef"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert signed_in_as(client) is None


def test_a_new_password_step_replaces_the_one_half_done(client, enrolled):
    password_step(client, enrolled.user)
    first = client.session["admin_second_step"]["mfa_token"]
    password_step(client, enrolled.user)
    assert client.session["admin_second_step"]["mfa_token"] != first


# --- What is recorded -------------------------------------------------------------------------------------
def test_a_two_factor_sign_in_is_the_password_step_then_each_code(client, enrolled):
    password_step(client, enrolled.user)
    client.post(VERIFY, {"code": wrong_code(enrolled.secret)})
    client.post(VERIFY, {"code": code_of(enrolled.secret)})
    user_id = enrolled.user.pk
    assert events() == [
        ("admin", True, True, user_id),  # the right password, which went on to a code
        ("totp", False, False, user_id),
        ("totp", True, False, user_id),  # and no second "admin" success for the login() after it
    ]


def test_an_admin_sign_in_without_two_factor_is_recorded_as_before(client, staff):
    assert password_step(client, staff)["Location"] == "/admin/"
    assert signed_in_as(client) == staff.pk
    assert events() == [("admin", True, False, staff.pk)]
    assert not TwoFactorChallenge.objects.exists()


# --- Staff who must turn it on ----------------------------------------------------------------------------
@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA_FOR_STAFF = True


def test_staff_without_two_factor_are_sent_to_enrol_and_cannot_reach_the_admin(client, staff, required):
    response = password_step(client, staff)
    assert response["Location"] == ENROL
    assert signed_in_as(client) is None
    assert client.get("/admin/").status_code == 302
    assert client.get(VERIFY)["Location"] == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<img src="data:image/svg+xml' in html
    assert page.context["setup"]["secret"] in html
    assert client.get("/admin/accounts/user/").status_code == 302


def test_an_admin_session_from_before_the_rule_no_longer_opens_the_admin(client, staff, settings):
    settings.REQUIRE_2FA_FOR_STAFF = False
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    settings.REQUIRE_2FA_FOR_STAFF = True
    assert client.get("/admin/")["Location"].startswith(LOGIN)
    assert client.get(CHANGELIST).status_code == 302
    response = client.get(LOGIN, follow=True)
    assert signed_in_as(client) is None, "the login page signs the old session out"
    assert "sign in again to set it up" in " ".join(messages_of(response))
    assert password_step(client, staff)["Location"] == ENROL


def test_someone_promoted_to_staff_must_enrol_before_the_admin(client, make_user, required):
    user = make_user(email="new@example.com")
    client.force_login(user)
    user.is_staff = True
    user.save()
    assert client.get("/admin/").status_code == 302


def test_staff_whose_two_factor_is_reset_lose_the_admin_at_once(client, enrolled, make_user, required):
    from apps.accounts.services import two_factor_reset

    client.force_login(enrolled.user)
    assert client.get("/admin/").status_code == 200
    root = make_user(email="root2@example.com", is_staff=True, is_superuser=True)
    assert two_factor_reset(user=enrolled.user, actor=root)
    assert client.get("/admin/").status_code == 302


def test_finishing_enrolment_signs_in_and_shows_the_recovery_codes_once(client, staff, required):
    password_step(client, staff, next="/admin/accounts/user/")
    secret = client.get(ENROL).context["setup"]["secret"]
    response = client.post(ENROL, {"code": code_of(secret)})
    assert response.status_code == 200
    codes = response.context["recovery_codes"]
    assert len(codes) == 10
    html = response.content.decode()
    assert all(code in html for code in codes)
    assert 'href="/admin/accounts/user/"' in html
    assert signed_in_as(client) == staff.pk
    assert client.get("/admin/").status_code == 200
    assert TwoFactor.objects.get(user=staff).totp_enabled_at is not None
    assert events() == [("admin", True, True, staff.pk), ("totp", True, False, staff.pk)]
    assert client.get(ENROL)["Location"] == LOGIN, "nothing left to enrol, no code shown again"


def test_a_wrong_enrolment_code_keeps_the_form_and_signs_nobody_in(client, staff, required):
    password_step(client, staff)
    client.get(ENROL)
    response = client.post(ENROL, {"code": "abcdef"})
    assert response.status_code == 200
    assert "This code is wrong; 4 tries left." in response.content.decode()
    assert b"Show a new QR code" in response.content
    assert signed_in_as(client) is None
    assert not TwoFactor.objects.get(user=staff).is_enabled


def test_enrolled_staff_get_the_code_step_when_it_is_required(client, enrolled, required):
    assert password_step(client, enrolled.user)["Location"] == VERIFY


def test_requirement_leaves_non_staff_alone(client, make_user, required):
    # The admin refuses non-staff at the password; they never see a code step.
    user = make_user()
    response = password_step(client, user)
    assert response.status_code == 200
    assert not TwoFactorChallenge.objects.exists()


# --- The user admin ---------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_the_user_page_shows_the_two_factor_state_and_no_secret(admin_client, enrolled):
    password_step_client = type(admin_client)()
    password_step(password_step_client, enrolled.user)
    password_step_client.post(VERIFY, {"code": enrolled.recovery_codes[0]})

    response = admin_client.get(f"/admin/accounts/user/{enrolled.user.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    shown = dict(re.findall(r'field-(two_factor_\w+)">.*?<div class="readonly">(.*?)</div>', html, re.S))
    assert shown.keys() == {
        "two_factor_state",
        "two_factor_methods",
        "two_factor_totp_since",
        "two_factor_sms_since",
        "two_factor_recovery_codes_left",
        "two_factor_last_used_at",
        "two_factor_last_used_method",
    }
    assert shown["two_factor_state"] == "On"
    assert shown["two_factor_methods"] == "Authenticator app, Recovery code"
    assert shown["two_factor_totp_since"] not in {"-", "None"}
    assert shown["two_factor_sms_since"] == "-"
    assert shown["two_factor_recovery_codes_left"] == "9"
    assert shown["two_factor_last_used_at"] not in {"-", "None"}
    assert shown["two_factor_last_used_method"] == "Recovery code"
    two_factor = TwoFactor.objects.get(user=enrolled.user)
    for secret in [
        enrolled.secret,
        two_factor.totp_secret,
        *enrolled.recovery_codes,
        *RecoveryCode.objects.filter(user=enrolled.user).values_list("code_hash", flat=True),
    ]:
        assert secret not in html


def test_the_user_page_of_someone_without_two_factor_says_off(admin_client, user):
    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'field-two_factor_state">.*?<div class="readonly">Off</div>', html, re.S)
    assert re.search(r'field-two_factor_methods">.*?<div class="readonly">-</div>', html, re.S)


def test_the_two_factor_filter_and_column(admin_client, enrolled, user, superuser):
    def listed(value):
        response = admin_client.get(CHANGELIST, {"two_factor": value})
        assert response.status_code == 200
        return {row.email: row.two_factor_on for row in response.context["cl"].result_list}

    assert listed("on") == {enrolled.user.email: True}
    assert listed("off") == {user.email: False, superuser.email: False}
    titles = {str(spec.title) for spec in admin_client.get(CHANGELIST).context["cl"].filter_specs}
    assert "two-factor" in titles


def test_a_superuser_resets_two_factor(
    admin_client, superuser, enrolled, user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "reset_two_factor", "_selected_action": [enrolled.user.pk, user.pk]},
            follow=True,
        )
    assert "Reset two-factor sign-in of 1 user." in messages_of(response)
    assert "Skipped 1 user without two-factor sign-in." in messages_of(response)
    assert not TwoFactor.objects.filter(user=enrolled.user).exists()
    assert not RecoveryCode.objects.filter(user=enrolled.user).exists()
    entry = AuditLog.objects.get(action="user.two_factor_reset")
    assert entry.actor_id == superuser.pk
    assert entry.target_id == str(enrolled.user.pk)
    assert entry.changes == {"methods": [["totp"], []]}
    assert [message.to for message in mail.outbox] == [[enrolled.user.email]]
    # And the account signs in with its password alone again.
    other = type(admin_client)()
    assert password_step(other, enrolled.user)["Location"] == "/admin/"


def test_the_reset_is_not_offered_to_staff_who_are_not_superusers(client, make_user, enrolled):
    staff_member = make_user("accounts.view_user", "accounts.change_user", is_staff=True)
    client.force_login(grant(staff_member))
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "deactivate_users" in actions
    assert "reset_two_factor" not in actions
    client.post(CHANGELIST, {"action": "reset_two_factor", "_selected_action": [enrolled.user.pk]})
    assert TwoFactor.objects.get(user=enrolled.user).is_enabled
    assert not AuditLog.objects.filter(action="user.two_factor_reset").exists()


def test_sign_in_challenges_are_listed_without_their_token_hash(admin_client, enrolled):
    password_step(type(admin_client)(), enrolled.user)
    challenge = TwoFactorChallenge.objects.get()
    for url in [
        "/admin/accounts/twofactorchallenge/",
        f"/admin/accounts/twofactorchallenge/{challenge.pk}/change/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200
        assert challenge.token_hash not in response.content.decode()
