from datetime import timedelta

import pyotp
from django.utils import timezone
from model_bakery import baker

from apps.accounts.models import SMSCode, TwoFactor
from apps.accounts.tokens import sms_code_hash
from apps.core.encryption import encrypt
from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.conftest import DEFAULT_PASSWORD


def another_user(make_user, **kwargs):
    return make_user()


def an_empty_role(name: str = "holders"):
    """A role granting nothing, so any caller may hand it out or take it away."""
    from django.contrib.auth.models import Group

    from apps.roles.models import Role

    return Role.objects.get_or_create(group=Group.objects.get_or_create(name=name)[0])[0]


def a_user_holding_a_role(make_user, **kwargs):
    user = make_user()
    user.groups.add(an_empty_role().group)
    return user


class TestAccountsEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("GET", "/api/v1/users/", "accounts.view_user"),
        Endpoint("GET", "/api/v1/users/{pk}/", "accounts.view_user", make_object=another_user),
        Endpoint(
            "PATCH",
            "/api/v1/users/{pk}/",
            "accounts.change_user",
            {"full_name": "X"},
            make_object=another_user,
        ),
        Endpoint(
            "DELETE", "/api/v1/users/{pk}/", "accounts.delete_user", success=204, make_object=another_user
        ),
        Endpoint("GET", "/api/v1/users/{pk}/roles/", "accounts.manage_roles", make_object=another_user),
        Endpoint(
            "PUT",
            "/api/v1/users/{pk}/roles/",
            "accounts.manage_roles",
            {"roles": []},
            make_object=another_user,
        ),
        Endpoint(
            "POST",
            "/api/v1/users/{pk}/roles/",
            "accounts.manage_roles",
            lambda: {"role": an_empty_role().name},
            success=201,
            make_object=another_user,
        ),
        Endpoint(
            "DELETE",
            "/api/v1/users/{pk}/roles/{role_name}/",
            "accounts.manage_roles",
            success=204,
            make_object=a_user_holding_a_role,
            path_names={"role_name": "holders"},
        ),
        Endpoint("GET", "/api/v1/users/me/", None),
        Endpoint("PATCH", "/api/v1/users/me/", None, {"full_name": "Me"}),
        Endpoint("DELETE", "/api/v1/users/me/", None, {"password": DEFAULT_PASSWORD}, success=204),
        Endpoint(
            "POST",
            "/api/v1/auth/password/change/",
            None,
            {"old_password": DEFAULT_PASSWORD, "new_password": "a-fresh-pass-phrase-9"},
        ),
        Endpoint("POST", "/api/v1/auth/email/verify/resend/", None, success=202),
        Endpoint(
            "POST",
            "/api/v1/auth/email/change/",
            None,
            {"new_email": "somewhere-else@example.com", "password": DEFAULT_PASSWORD},
            success=202,
        ),
        Endpoint("POST", "/api/v1/auth/logout/all/", None, success=204),
        Endpoint("GET", "/api/v1/analytics/logins/", "analytics.view_loginevent"),
        Endpoint("GET", "/api/v1/audit-logs/", "logs.view_auditlog"),
        Endpoint(
            "GET",
            "/api/v1/audit-logs/{pk}/",
            "logs.view_auditlog",
            make_object=lambda make_user, **kwargs: baker.make("logs.AuditLog", action="user.login"),
        ),
    ]


class TestPhoneEndpoint(EndpointPermissionTests):
    """Adding a phone number needs a verified email address, so the caller who should succeed has one."""

    endpoints = [
        Endpoint(
            "POST",
            "/api/v1/users/me/phone/",
            None,
            {"phone": "+447911123456", "password": DEFAULT_PASSWORD},
            success=202,
        )
    ]

    def test_callers_with_the_permission_succeed(self, api, make_user, endpoint: Endpoint):
        caller = make_user(email_verified_at=timezone.now())
        response = endpoint.call(api(caller), endpoint.url(make_user))
        assert response.status_code == endpoint.success, response.content


class TestPhoneVerifyEndpoint(EndpointPermissionTests):
    """Confirming a phone number needs the code of the caller's own verification, so the caller
    who should succeed is given one first."""

    CODE = "246810"
    endpoints = [Endpoint("POST", "/api/v1/users/me/phone/verify/", None, {"code": CODE})]

    def test_callers_with_the_permission_succeed(self, api, make_user, endpoint: Endpoint):
        caller = make_user()
        verification = SMSCode.objects.create(
            user=caller,
            purpose=SMSCode.Purpose.PHONE_VERIFICATION,
            phone="+447911123456",
            expires_at=timezone.now() + timedelta(minutes=10),
        )
        verification.code_hash = sms_code_hash(verification, self.CODE)
        verification.save(update_fields=["code_hash"])
        response = endpoint.call(api(caller), endpoint.url(make_user))
        assert response.status_code == endpoint.success, response.content


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def app_code() -> str:
    return pyotp.TOTP(TOTP_SECRET).now()


class TestTwoFactorEndpoints(EndpointPermissionTests):
    """Turning 2FA on and off. The caller who should succeed is first put in the state the call
    needs: a pending app secret, a verified number, a texted code, 2FA on."""

    SMS = "135790"
    endpoints = [
        Endpoint("GET", "/api/v1/auth/2fa/", None),
        Endpoint("POST", "/api/v1/auth/2fa/totp/setup/", None),
        Endpoint(
            "POST",
            "/api/v1/auth/2fa/totp/confirm/",
            None,
            lambda: {"code": pyotp.TOTP(TOTP_SECRET).now(), "password": DEFAULT_PASSWORD},
        ),
        Endpoint("POST", "/api/v1/auth/2fa/sms/code/", None, success=202),
        Endpoint("POST", "/api/v1/auth/2fa/sms/enable/", None, {"code": SMS, "password": DEFAULT_PASSWORD}),
        Endpoint(
            "POST",
            "/api/v1/auth/2fa/recovery-codes/",
            None,
            lambda: {"password": DEFAULT_PASSWORD, "code": app_code()},
        ),
        Endpoint(
            "POST",
            "/api/v1/auth/2fa/disable/",
            None,
            lambda: {"password": DEFAULT_PASSWORD, "code": app_code()},
            success=204,
        ),
    ]

    def prepare(self, caller, path: str) -> None:
        now = timezone.now()
        caller.phone, caller.phone_verified_at = "+447911123456", now
        caller.save(update_fields=["phone", "phone_verified_at"])
        if path.endswith(("recovery-codes/", "disable/")):
            TwoFactor.objects.create(user=caller, totp_secret=encrypt(TOTP_SECRET), totp_enabled_at=now)
        if path.endswith("totp/confirm/"):
            TwoFactor.objects.create(user=caller, totp_pending_secret=encrypt(TOTP_SECRET))
        if path.endswith("sms/enable/"):
            code = SMSCode.objects.create(
                user=caller,
                purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE,
                phone=caller.phone,
                sent_at=now,
                expires_at=now + timedelta(minutes=5),
            )
            code.code_hash = sms_code_hash(code, self.SMS)
            code.save(update_fields=["code_hash"])

    def test_callers_with_the_permission_succeed(self, api, make_user, endpoint: Endpoint):
        caller = make_user()
        self.prepare(caller, endpoint.path)
        response = endpoint.call(api(caller), endpoint.url(make_user))
        assert response.status_code == endpoint.success, response.content


def a_session(make_user, owner=None):
    from apps.accounts.models import AuthSession

    return AuthSession.objects.create(user=owner or make_user())


class TestOwnAccessAndSessionsEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("GET", "/api/v1/users/me/permissions/", None),
        Endpoint("GET", "/api/v1/auth/sessions/", None),
        Endpoint(
            "DELETE",
            "/api/v1/auth/sessions/{pk}/",
            None,
            success=204,
            make_object=a_session,
            owner_field="user",
        ),
    ]
