"""What a user may do (`user_access`): their role names and permissions, read from the permission
cache and forgotten with it."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import User
from apps.roles.selectors import user_access

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def viewers():
    group = Group.objects.create(name="viewers")
    group.permissions.add(Permission.objects.get(codename="view_user"))
    return group


def fresh(user):
    return User.objects.get(pk=user.pk)  # a new instance, as in a new request


def test_roles_and_permissions_are_sorted_names(make_user, viewers):
    user = make_user("accounts.delete_user")
    user.groups.add(viewers, Group.objects.create(name="auditors"))
    access = user_access(fresh(user))
    assert access.is_superuser is False
    assert access.roles == ["auditors", "viewers"]
    assert access.permissions == ["accounts.delete_user", "accounts.view_user"]


def test_once_cached_reading_costs_no_query(make_user, viewers, django_assert_num_queries):
    user = make_user()
    user.groups.add(viewers)
    user_access(fresh(user))
    again = fresh(user)
    with django_assert_num_queries(0):
        assert user_access(again).roles == ["viewers"]


def test_a_role_renamed_is_forgotten(make_user, viewers):
    user = make_user()
    user.groups.add(viewers)
    assert user_access(fresh(user)).roles == ["viewers"]
    viewers.name = "readers"
    viewers.save()
    assert user_access(fresh(user)).roles == ["readers"]


def test_a_role_deleted_is_forgotten(make_user, viewers):
    user = make_user()
    user.groups.add(viewers)
    assert user_access(fresh(user)).roles == ["viewers"]
    viewers.delete()
    assert user_access(fresh(user)).roles == []
    assert user_access(fresh(user)).permissions == []


def test_members_cleared_from_a_role_are_forgotten(make_user, viewers):
    user = make_user()
    user.groups.add(viewers)
    assert user_access(fresh(user)).roles == ["viewers"]
    viewers.user_set.clear()
    assert user_access(fresh(user)).roles == []


def test_a_superuser_holds_every_permission(superuser):
    access = user_access(fresh(superuser))
    assert access.is_superuser is True
    assert len(access.permissions) == Permission.objects.count()
