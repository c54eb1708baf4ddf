"""Who holds a role: the one query other apps ask (the provider list, the low-stock recipients)."""

import pytest
from django.contrib.auth.models import Group

from apps.roles.selectors import holds_role, users_with_role
from apps.roles.spec import SYSTEM_ROLES, SystemRole

pytestmark = pytest.mark.django_db


def test_every_system_role_name_has_a_spec():
    names = {value for key, value in vars(SystemRole).items() if key.isupper()}
    assert names == set(SYSTEM_ROLES)


def test_users_with_a_role_are_its_active_holders_each_once(make_user):
    providers, managers = Group.objects.create(name="provider"), Group.objects.create(name="manager")
    holder, both, gone, other = (make_user() for _ in range(4))
    holder.groups.add(providers)
    both.groups.add(providers, managers)
    gone.groups.add(providers)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    other.groups.add(managers)
    assert list(users_with_role(SystemRole.PROVIDER).order_by("id")) == [holder, both]


def test_holds_role_asks_for_an_active_holder(make_user):
    from django.contrib.auth.models import AnonymousUser

    user = make_user()
    assert not holds_role(user, SystemRole.PROVIDER)
    user.groups.add(Group.objects.create(name="provider"))
    assert holds_role(user, SystemRole.PROVIDER)
    user.is_active = False
    assert not holds_role(user, SystemRole.PROVIDER)
    assert not holds_role(AnonymousUser(), SystemRole.PROVIDER)
    assert not holds_role(None, SystemRole.PROVIDER)
