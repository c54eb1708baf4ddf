from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from apps.roles.models import Role

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def admin_client(client, superuser):
    call_command("seed_permissions", stdout=StringIO())
    client.force_login(superuser)
    return client


def test_staff_see_roles_with_description_and_system_flag(admin_client):
    response = admin_client.get("/admin/auth/group/")
    assert response.status_code == 200
    assert b"Every registered user" in response.content


def test_a_role_made_in_the_admin_gets_its_role_record_and_permissions(admin_client):
    permission = Permission.objects.get(codename="view_auditlog")
    response = admin_client.post(
        "/admin/auth/group/add/",
        {
            "name": "auditors",
            "permissions": [permission.pk],
            "role-TOTAL_FORMS": "1",
            "role-INITIAL_FORMS": "0",
            "role-0-description": "Reads the audit trail",
        },
    )
    assert response.status_code == 302, response.content
    role = Role.objects.get(group__name="auditors")
    assert role.description == "Reads the audit trail" and not role.is_system
    assert list(role.group.permissions.all()) == [permission]


def test_system_roles_cannot_be_renamed_or_deleted_in_the_admin(admin_client):
    customer = Group.objects.get(name="customer")
    change_page = admin_client.get(f"/admin/auth/group/{customer.pk}/change/").content.decode()
    assert 'name="name"' not in change_page, "the name is shown read-only"
    assert admin_client.get(f"/admin/auth/group/{customer.pk}/delete/").status_code == 403
    admin_client.post(
        "/admin/auth/group/", {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"}
    )
    assert Group.objects.filter(name="customer").exists()


def test_roles_are_editable_on_the_user_page(admin_client, user):
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Roles" in page and "customer" in page
