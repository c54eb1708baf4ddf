from itertools import count

from model_bakery import baker

from tests.api_permissions import Endpoint, EndpointPermissionTests

_names = count(1)


def a_role(make_user, **kwargs):
    return baker.make("roles.Role", group=baker.make("auth.Group", name=f"role-{next(_names)}"))


class TestRolesEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("GET", "/api/v1/roles/", "accounts.manage_roles"),
        Endpoint(
            "POST", "/api/v1/roles/", "accounts.manage_roles", lambda: {"name": f"new-{next(_names)}"}, 201
        ),
        Endpoint("GET", "/api/v1/roles/{pk}/", "accounts.manage_roles", make_object=a_role),
        Endpoint(
            "PATCH", "/api/v1/roles/{pk}/", "accounts.manage_roles", {"description": "x"}, make_object=a_role
        ),
        Endpoint("DELETE", "/api/v1/roles/{pk}/", "accounts.manage_roles", success=204, make_object=a_role),
        Endpoint("GET", "/api/v1/permissions/", "accounts.manage_roles"),
    ]
