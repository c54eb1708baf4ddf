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
