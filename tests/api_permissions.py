"""A reusable specification of who may call an endpoint, in the NetBox style.

Mix `EndpointPermissionTests` into a test class and list its endpoints:

    class TestRolesEndpoints(EndpointPermissionTests):
        endpoints = [
            Endpoint("GET", "/api/v1/roles/", "accounts.manage_roles"),
            Endpoint("DELETE", "/api/v1/roles/{pk}/", "accounts.manage_roles", success=204,
                     make_object=make_role),
        ]

Each endpoint then gets these specifications:
- anonymous -> 401;
- authenticated without the permission -> 403 (unless the endpoint needs none);
- with the permission -> the success status;
- for owned objects (`owner_field` set), someone else's object -> 404.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{pk}" is replaced by the primary key of make_object's object
    permission: str | None  # `app_label.codename`; None: any authenticated user
    data: dict | Callable[[], dict] | None = None
    success: int = 200
    make_object: Callable[..., Any] | None = None  # make_object(make_user, owner=None) -> model instance
    owner_field: str | None = None  # set when objects belong to a user: others' objects must be 404
    path_names: dict[str, str] | None = None  # other path parameters: {"role_name": "holders"}

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, make_user, owner=None) -> str:
        names = self.path_names or {}
        if self.make_object is None:
            return self.path.format(**names) if names else self.path
        kwargs = {"owner": owner} if self.owner_field else {}
        return self.path.format(pk=self.make_object(make_user, **kwargs).pk, **names)

    def payload(self) -> dict | None:
        return self.data() if callable(self.data) else self.data

    def call(self, client, url):
        return getattr(client, self.method.lower())(url, self.payload(), format="json")


def applies_to(predicate: Callable[[Endpoint], bool]):
    """Run a specification only for the endpoints it is about (see pytest_generate_tests)."""

    def mark(test):
        test.applies_to = predicate
        return test

    return mark


@pytest.mark.django_db(databases="__all__")
class EndpointPermissionTests:
    endpoints: ClassVar[list[Endpoint]] = []

    def test_anonymous_callers_get_401(self, api, make_user, endpoint: Endpoint):
        response = endpoint.call(api(), endpoint.url(make_user))
        assert response.status_code == 401, response.content

    @applies_to(lambda endpoint: endpoint.permission is not None)
    def test_callers_without_the_permission_get_403(self, api, make_user, endpoint: Endpoint):
        url = endpoint.url(make_user)
        response = endpoint.call(api(make_user()), url)
        assert response.status_code == 403, response.content

    def test_callers_with_the_permission_succeed(self, api, make_user, endpoint: Endpoint):
        caller = make_user(*([endpoint.permission] if endpoint.permission else []))
        owner = caller if endpoint.owner_field else None
        url = endpoint.url(make_user, owner) if endpoint.owner_field else endpoint.url(make_user)
        response = endpoint.call(api(caller), url)
        assert response.status_code == endpoint.success, response.content

    @applies_to(lambda endpoint: endpoint.owner_field is not None)
    def test_someone_elses_object_is_404(self, api, make_user, endpoint: Endpoint):
        caller = make_user(*([endpoint.permission] if endpoint.permission else []))
        response = endpoint.call(api(caller), endpoint.url(make_user, owner=make_user()))
        assert response.status_code == 404, response.content
