"""ModelPermissions: what a caller may do is a 403; what nobody may do is a 405."""

import pytest
from rest_framework import mixins, serializers, viewsets
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.logs.models import AuditLog

pytestmark = pytest.mark.django_db(databases="__all__")


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = ["id", "action"]


class PatchOnlyViewSet(mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Like RoleViewSet: the mixin brings `update`, http_method_names leaves PUT out."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    http_method_names = ["get", "patch", "head", "options"]


def put(user):
    # The router maps PUT to `update` whatever http_method_names says; so does this.
    view = PatchOnlyViewSet.as_view({"put": "update", "patch": "partial_update"})
    request = APIRequestFactory().put("/things/1/", {"action": "x"}, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    return view(request, pk=1)


def test_a_method_the_view_does_not_allow_is_a_405_even_without_any_permission(make_user):
    response = put(make_user())
    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"


def test_a_method_the_view_does_not_allow_is_a_405_for_a_superuser(superuser):
    assert put(superuser).status_code == 405


def test_an_anonymous_caller_is_told_to_authenticate_first():
    assert put(None).status_code == 401


@pytest.mark.parametrize("who", ["superuser", "role manager", "anyone signed in"])
def test_put_on_a_role_is_a_405_for_every_signed_in_caller(api, make_user, superuser, who):
    caller = {
        "superuser": superuser,
        "role manager": make_user("accounts.manage_roles"),
        "anyone signed in": make_user(),
    }[who]
    response = api(caller).put("/api/v1/roles/1/", {"name": "x"})
    assert response.status_code == 405
    assert "PUT" not in response["Allow"]


def test_put_on_a_role_is_a_401_for_an_anonymous_caller(api):
    assert api().put("/api/v1/roles/1/", {"name": "x"}).status_code == 401


def test_a_method_the_view_allows_is_still_a_403_without_the_permission(api, make_user):
    assert api(make_user()).patch("/api/v1/roles/1/", {"name": "x"}).status_code == 403


def _public_get_paths(schema) -> list[str]:
    return [
        path
        for path, operations in schema["paths"].items()
        if {} in operations.get("get", {}).get("security", [])
    ]


def test_options_on_every_endpoint_with_a_public_get_answers_without_a_token(openapi_schema, api):
    public = _public_get_paths(openapi_schema)
    assert "/api/v1/products/" in public, "the schema no longer marks public reads; this test is out of date"
    refused = {}
    for path in public:
        # OPTIONS describes the endpoint and never looks the object up: any id will do.
        response = api().options(path.replace("{id}", "1"))
        if response.status_code != 200:
            refused[path] = response.status_code
    assert refused == {}


def test_options_on_an_endpoint_with_no_public_method_still_needs_a_token(api):
    assert api().options("/api/v1/roles/").status_code == 401
    assert api().options("/api/v1/products/1/stock/").status_code == 401
