"""POST and DELETE users/{id}/roles/: one role given or taken, the user's others kept, under the rules
and with the audit entries of the replace (PUT)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.logs.models import AuditLog

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_permissions", stdout=StringIO())


def roles_url(user) -> str:
    return f"/api/v1/users/{user.pk}/roles/"


def holding(make_user, *names: str):
    user = make_user()
    user.groups.add(*(Group.objects.get(name=name) for name in names))
    return user


def roles_of(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


class TestGivingOneRole:
    def test_adds_the_role_and_keeps_the_others(self, api, role_manager, make_user):
        member = holding(make_user, "customer")
        response = api(role_manager).post(roles_url(member), {"role": "provider"})
        assert response.status_code == 201
        assert response.json() == {"roles": ["customer", "provider"]}
        assert AuditLog.objects.get(action="user.roles_update").changes == {
            "roles": [["customer"], ["customer", "provider"]]
        }

    def test_a_role_held_already_is_200_and_changes_nothing(self, api, role_manager, make_user):
        member = holding(make_user, "customer")
        response = api(role_manager).post(roles_url(member), {"role": "customer"})
        assert response.status_code == 200
        assert response.json() == {"roles": ["customer"]}
        assert not AuditLog.objects.filter(action="user.roles_update").exists()

    def test_an_unknown_role_is_a_400_on_role(self, api, role_manager, make_user):
        member = make_user()
        response = api(role_manager).post(roles_url(member), {"role": "wizard"})
        assert response.status_code == 400
        assert "wizard" in response.json()["field_errors"]["role"][0]

    def test_a_body_without_role_is_a_400(self, api, role_manager, make_user):
        response = api(role_manager).post(roles_url(make_user()), {"roles": ["customer"]})
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == {"role", "roles"}

    def test_nobody_gives_a_role_above_their_own_permissions(self, api, make_user):
        climber = make_user("accounts.manage_roles")
        assert api(climber).post(roles_url(climber), {"role": "admin"}).status_code == 403
        assert roles_of(climber) == []

    def test_only_superusers_change_a_superusers_roles(self, api, role_manager, make_user):
        root = make_user(is_superuser=True)
        assert api(role_manager).post(roles_url(root), {"role": "customer"}).status_code == 403

    def test_the_new_role_takes_effect_on_the_next_request(self, api, role_manager, make_user):
        member = make_user()
        client = api(member)
        assert client.get("/api/v1/users/").status_code == 403
        api(role_manager).post(roles_url(member), {"role": "manager"})
        assert client.get("/api/v1/users/").status_code == 200


class TestTakingOneRole:
    def test_removes_the_role_and_keeps_the_others(self, api, role_manager, make_user):
        member = holding(make_user, "customer", "provider")
        response = api(role_manager).delete(roles_url(member) + "provider/")
        assert response.status_code == 204
        assert roles_of(member) == ["customer"]
        assert AuditLog.objects.get(action="user.roles_update").changes == {
            "roles": [["customer", "provider"], ["customer"]]
        }

    @pytest.mark.parametrize("name", ["provider", "wizard"])
    def test_a_role_not_held_or_unknown_is_404(self, api, role_manager, make_user, name):
        member = holding(make_user, "customer")
        response = api(role_manager).delete(roles_url(member) + f"{name}/")
        assert response.status_code == 404
        assert roles_of(member) == ["customer"]
        assert not AuditLog.objects.filter(action="user.roles_update").exists()

    def test_a_role_the_caller_could_not_grant_cannot_be_taken(self, api, make_user):
        admin = holding(make_user, "admin")
        editor = make_user("accounts.manage_roles")
        assert api(editor).delete(roles_url(admin) + "admin/").status_code == 403
        assert roles_of(admin) == ["admin"]

    def test_the_role_is_gone_on_the_next_request(self, api, role_manager, make_user):
        member = holding(make_user, "manager")
        client = api(member)
        assert client.get("/api/v1/users/").status_code == 200
        api(role_manager).delete(roles_url(member) + "manager/")
        assert client.get("/api/v1/users/").status_code == 403
