"""`manage.py seed_permissions`: the system roles from apps/roles/spec.py, idempotent, with a dry run."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from apps.logs.models import AuditLog
from apps.roles.models import Role
from apps.roles.spec import SYSTEM_ROLES

pytestmark = pytest.mark.django_db(databases="__all__")


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_permissions", *args, stdout=out)
    return out.getvalue()


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_creates_every_system_role_from_the_spec():
    output = seed()
    assert set(Role.objects.filter(is_system=True).values_list("group__name", flat=True)) == set(SYSTEM_ROLES)
    assert "Created role 'admin'" in output
    assert permissions_of("admin") >= {"accounts.manage_roles", "accounts.delete_user", "logs.view_auditlog"}
    assert {"accounts.view_user", "analytics.view_loginevent", "logs.view_auditlog"} <= permissions_of(
        "manager"
    )
    assert "accounts.manage_roles" not in permissions_of("manager")
    assert not {p for p in permissions_of("customer") if p.startswith(("accounts.", "logs.", "analytics."))}


def test_a_second_run_changes_nothing_and_says_so():
    seed()
    audit_entries = AuditLog.objects.count()
    assert seed().strip() == "System roles are up to date; nothing to change."
    assert AuditLog.objects.count() == audit_entries


def test_dry_run_prints_the_changes_and_writes_nothing():
    output = seed("--dry-run")
    assert "Would create role 'manager'" in output
    assert "  + accounts.view_user" in output
    assert "Dry run: nothing was changed." in output
    assert not Group.objects.exists()
    assert not AuditLog.objects.exists()


def test_restores_a_system_role_that_was_changed_by_hand():
    seed()
    manager = Group.objects.get(name="manager")
    manager.permissions.remove(Permission.objects.get(codename="view_user"))
    manager.permissions.add(Permission.objects.get(codename="manage_roles"))
    output = seed("--dry-run")
    assert "Would update role 'manager'" in output
    assert "  + accounts.view_user" in output and "  - accounts.manage_roles" in output
    seed()
    assert "accounts.view_user" in permissions_of("manager")
    assert "accounts.manage_roles" not in permissions_of("manager")
    assert AuditLog.objects.filter(action="role.seed", target_id=str(manager.pk)).exists()


def test_never_touches_a_role_an_operator_made():
    seed()
    auditors = Group.objects.create(name="auditors")
    Role.objects.create(group=auditors, description="Made by hand")
    auditors.permissions.add(Permission.objects.get(codename="view_auditlog"))
    seed()
    assert permissions_of("auditors") == {"logs.view_auditlog"}
    assert not Role.objects.get(group=auditors).is_system


def test_new_registrations_get_the_customer_role_even_before_seeding(api):
    response = api().post(
        "/api/v1/auth/register/",
        {"email": "new@example.com", "username": "new", "password": "a-long-pass-phrase-7"},
    )
    assert response.status_code == 201
    assert list(Group.objects.filter(user__email="new@example.com").values_list("name", flat=True)) == [
        "customer"
    ]
    assert Role.objects.get(group__name="customer").is_system


def test_managers_hold_every_catalog_permission():
    seed()
    catalog = {
        f"products.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="products").values_list(
            "codename", flat=True
        )
    }
    assert {"products.add_product", "products.delete_category", "products.adjust_stock"} <= catalog
    assert catalog <= permissions_of("manager")
    assert "products.adjust_stock" not in permissions_of("customer")


@pytest.mark.parametrize("role", ["customer", "provider"])
def test_customers_and_providers_see_the_catalog_but_not_its_stock_ledger(role):
    # Movements name the staff who made them and carry internal notes.
    seed()
    catalog = {p for p in permissions_of(role) if p.startswith("products.")}
    assert catalog == {"products.view_category", "products.view_product"}


def test_the_manager_role_alone_is_enough_to_run_the_catalog(api, make_user):
    seed()
    manager = make_user()
    manager.groups.add(Group.objects.get(name="manager"))
    client = api(manager)
    category = client.post("/api/v1/categories/", {"name": "Books"})
    assert category.status_code == 201, category.content
    product = client.post(
        "/api/v1/products/",
        {"name": "Atlas", "sku": "AT-1", "price": "12.00", "category": category.json()["id"], "stock": 5},
    )
    assert product.status_code == 201, product.content
    adjusted = client.post(f"/api/v1/products/{product.json()['id']}/stock/", {"delta": -2, "reason": "sale"})
    assert (adjusted.status_code, adjusted.json()["stock"]) == (200, 3)


def test_the_customer_role_cannot_change_the_catalog(api, make_user):
    seed()
    customer = make_user()
    customer.groups.add(Group.objects.get(name="customer"))
    assert api(customer).post("/api/v1/categories/", {"name": "Books"}).status_code == 403


def test_a_first_seed_prints_a_line_per_role_not_each_permission():
    lines = seed().splitlines()
    assert len(lines) == len(SYSTEM_ROLES) + 1
    assert not [line for line in lines if line.startswith(("  +", "  -"))]
    assert any(line.startswith("Created role 'admin': ") and "permission(s) added" in line for line in lines)
    assert lines[-1] == f"Seeded {len(SYSTEM_ROLES)} role(s) (--verbosity 2 lists each permission)."


def test_verbosity_2_lists_every_permission():
    output = seed("--verbosity", "2")
    assert "Created role 'manager'" in output
    assert "  + accounts.view_user" in output
