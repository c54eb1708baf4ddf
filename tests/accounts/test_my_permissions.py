"""`users/me/permissions/`: a signed-in user learns their roles and the permissions they hold."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.roles.selectors import permission_name
from apps.roles.spec import SystemRole

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/api/v1/users/me/permissions/"


@pytest.fixture
def provider_role():
    group = Group.objects.create(name=SystemRole.PROVIDER)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="bookings", codename="view_booking"),
        Permission.objects.get(content_type__app_label="bookings", codename="confirm_booking"),
    )
    return group


def test_a_user_sees_their_roles_and_the_permissions_they_bring(api, make_user, provider_role):
    user = make_user("accounts.view_user")
    user.groups.add(provider_role, Group.objects.create(name="auditors"))
    response = api(user).get(URL)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "is_superuser": False,
        "roles": ["auditors", "provider"],
        "permissions": ["accounts.view_user", "bookings.confirm_booking", "bookings.view_booking"],
    }


def test_a_user_without_roles_holds_nothing(api, make_user):
    assert api(make_user()).get(URL).json() == {"is_superuser": False, "roles": [], "permissions": []}


def test_a_superuser_is_told_so_and_holds_every_permission(api, superuser):
    body = api(superuser).get(URL).json()
    assert body["is_superuser"] is True
    every = {permission_name(p) for p in Permission.objects.select_related("content_type")}
    assert set(body["permissions"]) == every
    assert body["permissions"] == sorted(body["permissions"])


def test_a_role_given_shows_at_once(api, make_user, provider_role):
    user = make_user()
    client = api(user)
    assert client.get(URL).json()["roles"] == []
    user.groups.add(provider_role)
    body = client.get(URL).json()
    assert body["roles"] == ["provider"]
    assert "bookings.confirm_booking" in body["permissions"]


def test_a_role_taken_away_shows_at_once(api, make_user, provider_role):
    user = make_user()
    user.groups.add(provider_role)
    client = api(user)
    assert client.get(URL).json()["roles"] == ["provider"]
    provider_role.user_set.remove(user)
    assert client.get(URL).json() == {"is_superuser": False, "roles": [], "permissions": []}


def test_a_roles_new_permission_reaches_its_holders_at_once(api, make_user, provider_role):
    user = make_user()
    user.groups.add(provider_role)
    client = api(user)
    assert "bookings.change_booking" not in client.get(URL).json()["permissions"]
    provider_role.permissions.add(Permission.objects.get(codename="change_booking"))
    assert "bookings.change_booking" in client.get(URL).json()["permissions"]


def test_a_renamed_role_shows_its_new_name_at_once(api, make_user, provider_role):
    user = make_user()
    user.groups.add(provider_role)
    client = api(user)
    assert client.get(URL).json()["roles"] == ["provider"]
    provider_role.name = "partner"
    provider_role.save()
    assert client.get(URL).json()["roles"] == ["partner"]


def test_a_role_changed_through_the_api_shows_at_once(api, make_user, superuser, provider_role):
    from apps.roles.models import Role

    Role.objects.create(group=provider_role)
    user = make_user()
    client = api(user)
    assert client.get(URL).json()["roles"] == []
    response = api(superuser).put(f"/api/v1/users/{user.pk}/roles/", {"roles": ["provider"]})
    assert response.status_code == 200, response.content
    assert client.get(URL).json()["roles"] == ["provider"]


def test_reading_costs_a_constant_few_queries_and_none_for_the_set_once_cached(
    api, make_user, provider_role, django_assert_max_num_queries
):
    user = make_user("accounts.view_user")
    user.groups.add(provider_role)
    client = api(user)
    # Cold: the user by token, the user's and the roles' permissions, the role names.
    with django_assert_max_num_queries(4):
        assert client.get(URL).status_code == 200
    # Warm: the user by token only (on Redis not even that).
    with django_assert_max_num_queries(1):
        assert client.get(URL).status_code == 200


def test_a_superusers_read_costs_as_few(api, superuser, django_assert_max_num_queries):
    client = api(superuser)
    with django_assert_max_num_queries(4):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(URL).status_code == 200


def test_nothing_can_be_written_here(api, make_user):
    client = api(make_user())
    assert client.patch(URL, {"roles": ["admin"]}).status_code == 405
    assert client.put(URL, {"permissions": ["accounts.delete_user"]}).status_code == 405


def test_the_profile_does_not_take_roles_or_permissions(api, make_user):
    response = api(make_user()).patch("/api/v1/users/me/", {"roles": ["admin"], "is_superuser": True})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"roles", "is_superuser"}
