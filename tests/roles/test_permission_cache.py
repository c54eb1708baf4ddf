"""A user's permission set is cached across requests and forgotten the moment it changes."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import User

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def viewer_role():
    group = Group.objects.create(name="viewers")
    group.permissions.add(Permission.objects.get(codename="view_user"))
    return group


def fresh(user):
    return User.objects.get(pk=user.pk)  # a new instance, as in a new request


def test_permission_checks_cost_no_queries_once_cached(make_user, viewer_role, django_assert_num_queries):
    user = make_user()
    user.groups.add(viewer_role)
    assert fresh(user).has_perm("accounts.view_user")
    again = fresh(user)
    with django_assert_num_queries(0):
        assert again.has_perm("accounts.view_user")
        assert not again.has_perm("accounts.delete_user")


def test_adding_a_user_to_a_role_takes_effect_at_once(make_user, viewer_role):
    user = make_user()
    assert not fresh(user).has_perm("accounts.view_user")
    user.groups.add(viewer_role)
    assert fresh(user).has_perm("accounts.view_user")
    viewer_role.user_set.remove(user)
    assert not fresh(user).has_perm("accounts.view_user")


def test_changing_a_roles_permissions_reaches_every_member(make_user, viewer_role):
    members = [make_user(), make_user()]
    for member in members:
        member.groups.add(viewer_role)
        assert fresh(member).has_perm("accounts.view_user")
    viewer_role.permissions.clear()
    assert not any(fresh(member).has_perm("accounts.view_user") for member in members)


def test_deleting_a_role_takes_its_permissions_away(make_user, viewer_role):
    user = make_user()
    user.groups.add(viewer_role)
    assert fresh(user).has_perm("accounts.view_user")
    viewer_role.delete()
    assert not fresh(user).has_perm("accounts.view_user")


def test_direct_permissions_are_forgotten_too(make_user):
    user = make_user()
    assert not fresh(user).has_perm("accounts.view_user")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert fresh(user).has_perm("accounts.view_user")


def test_clearing_a_roles_members_reaches_them(make_user, viewer_role):
    user = make_user()
    user.groups.add(viewer_role)
    assert fresh(user).has_perm("accounts.view_user")
    viewer_role.user_set.clear()
    assert not fresh(user).has_perm("accounts.view_user")


def test_inactive_users_have_no_permissions_even_when_cached(make_user, viewer_role):
    user = make_user()
    user.groups.add(viewer_role)
    assert fresh(user).has_perm("accounts.view_user")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not fresh(user).has_perm("accounts.view_user")


def test_a_stale_set_cached_while_the_change_commits_is_forgotten_at_commit(
    make_user, viewer_role, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.roles import backends

    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(viewer_role)
        # A concurrent request read the groups before this transaction committed and cached them.
        backends.remember(user.pk, set(), cache.get(backends.VERSION_KEY, 1))
    assert fresh(user).has_perm("accounts.view_user")
