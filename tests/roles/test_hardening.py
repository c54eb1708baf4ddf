"""Roles: names unique ignoring case, bounded text, and nobody takes away what they do not hold."""

import time

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from apps.roles.models import Role

pytestmark = pytest.mark.django_db(databases="__all__")

ROLES = "/api/v1/roles/"


@pytest.fixture
def role_manager(make_user):
    return make_user("accounts.manage_roles", "accounts.view_user", "logs.view_auditlog")


def test_role_names_are_unique_ignoring_case(api, role_manager):
    assert api(role_manager).post(ROLES, {"name": "Support"}).status_code == 201
    response = api(role_manager).post(ROLES, {"name": "support"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["name"]


def test_renaming_onto_another_roles_name_in_other_case_is_refused(api, role_manager):
    api(role_manager).post(ROLES, {"name": "Support"})
    other = api(role_manager).post(ROLES, {"name": "Sales"}).json()["id"]
    response = api(role_manager).patch(f"{ROLES}{other}/", {"name": "SUPPORT"})
    assert response.status_code == 400
    assert api(role_manager).patch(f"{ROLES}{other}/", {"name": "SALES"}).status_code == 200, "own name"


def test_the_database_itself_refuses_a_case_variant(db):
    Group.objects.create(name="Support")
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(name="SUPPORT")


def test_a_description_is_bounded(api, role_manager):
    response = api(role_manager).post(ROLES, {"name": "verbose", "description": "x" * 501})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["description"]
    assert not Role.objects.exists()


def test_permissions_the_editor_lacks_cannot_be_taken_away(api, make_user, superuser):
    role_id = (
        api(superuser).post(ROLES, {"name": "auditors", "permissions": ["logs.view_auditlog"]}).json()["id"]
    )
    editor = make_user("accounts.manage_roles")
    response = api(editor).patch(f"{ROLES}{role_id}/", {"permissions": []})
    assert response.status_code == 403
    assert "logs.view_auditlog" in response.json()["message"]
    assert list(Role.objects.get(pk=role_id).group.permissions.values_list("codename", flat=True)) == [
        "view_auditlog"
    ]


def test_a_role_the_editor_could_not_grant_cannot_be_taken_from_a_user(api, make_user, superuser):
    api(superuser).post(ROLES, {"name": "auditors", "permissions": ["logs.view_auditlog"]})
    member = make_user()
    member.groups.add(Group.objects.get(name="auditors"))
    editor = make_user("accounts.manage_roles")
    response = api(editor).put(f"/api/v1/users/{member.pk}/roles/", {"roles": []})
    assert response.status_code == 403
    assert member.groups.filter(name="auditors").exists()


def test_changing_only_permissions_moves_updated_at(api, role_manager):
    created = api(role_manager).post(ROLES, {"name": "viewers"}).json()
    time.sleep(0.01)
    changed = api(role_manager).patch(f"{ROLES}{created['id']}/", {"permissions": ["accounts.view_user"]})
    assert changed.json()["updated_at"] > created["updated_at"]


@pytest.mark.parametrize("name", ["support\x00", "sup\u200bport", "sup\tport", "\u202etroppus"])
def test_a_role_name_with_control_or_invisible_characters_is_refused(api, role_manager, name):
    response = api(role_manager).post(ROLES, {"name": name})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["name"]
    assert not Role.objects.exists()


def test_the_admin_refuses_such_a_role_name_too(client, superuser):
    client.force_login(superuser)
    response = client.post("/admin/auth/group/add/", {"name": "sup\u200bport", "role-TOTAL_FORMS": "1"})
    assert response.status_code == 200, "the form again, with its error"
    assert "name" in response.context["adminform"].form.errors
    assert not Group.objects.exists()
