from model_bakery import baker

from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.conftest import DEFAULT_PASSWORD


def another_user(make_user, **kwargs):
    return make_user()


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
