"""roles/, permissions/ and users/{id}/roles/: roles managed over the API, every change audited."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.logs.models import AuditLog
from apps.roles.models import Role

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def seeded(db):
    call_command("seed_permissions", stdout=StringIO())


def role_named(name: str) -> Role:
    return Role.objects.select_related("group").get(group__name=name)


class TestRoles:
    def test_lists_roles_with_their_permissions_and_user_counts(self, api, role_manager, seeded, make_user):
        make_user().groups.add(role_named("customer").group)
        body = api(role_manager).get("/api/v1/roles/").json()
        by_name = {role["name"]: role for role in body["results"]}
        assert set(by_name) == {"admin", "manager", "provider", "customer"}
        assert by_name["customer"]["is_system"] is True
        assert by_name["customer"]["user_count"] == 1
        assert "accounts.manage_roles" in by_name["admin"]["permissions"]

    def test_creates_a_role_with_named_permissions(self, api, role_manager):
        response = api(role_manager).post(
            "/api/v1/roles/",
            {"name": "auditor", "description": "Reads the trail", "permissions": ["logs.view_auditlog"]},
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["name"], body["is_system"], body["permissions"]) == (
            "auditor",
            False,
            ["logs.view_auditlog"],
        )
        entry = AuditLog.objects.get(action="role.create")
        assert entry.actor_id == role_manager.pk
        assert entry.changes["permissions"] == [None, ["logs.view_auditlog"]]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"name": "x", "permissions": ["nope.nothing"]}, "permissions"),
            ({"name": "customer"}, "name"),
            ({"permissions": []}, "name"),
            ({"name": "x", "permissions": "logs.view_auditlog"}, "permissions"),
        ],
    )
    def test_invalid_roles_are_field_errors_and_nothing_is_created(
        self, api, role_manager, seeded, payload, field
    ):
        before = Group.objects.count()
        response = api(role_manager).post("/api/v1/roles/", payload)
        assert response.status_code == 400
        assert field in response.json()["field_errors"]
        assert Group.objects.count() == before

    def test_updates_name_description_and_replaces_permissions(self, api, role_manager):
        role_id = api(role_manager).post(
            "/api/v1/roles/", {"name": "auditor", "permissions": ["logs.view_auditlog"]}
        )
        role_id = role_id.json()["id"]
        response = api(role_manager).patch(
            f"/api/v1/roles/{role_id}/", {"name": "reviewer", "permissions": ["accounts.view_user"]}
        )
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["permissions"]) == (
            "reviewer",
            ["accounts.view_user"],
        )
        changes = AuditLog.objects.get(action="role.update").changes
        assert changes == {
            "name": ["auditor", "reviewer"],
            "permissions": [["logs.view_auditlog"], ["accounts.view_user"]],
        }

    def test_system_roles_cannot_be_renamed_or_deleted(self, api, role_manager, seeded):
        customer = role_named("customer")
        client = api(role_manager)
        renamed = client.patch(f"/api/v1/roles/{customer.pk}/", {"name": "client"})
        assert renamed.status_code == 409
        assert renamed.json()["code"] == "conflict"
        assert client.delete(f"/api/v1/roles/{customer.pk}/").status_code == 409
        assert role_named("customer")

    def test_system_roles_are_changed_in_code_not_over_the_api(self, api, role_manager, seeded):
        customer = role_named("customer")
        client = api(role_manager)
        assert client.patch(f"/api/v1/roles/{customer.pk}/", {"description": "Buyers"}).status_code == 409
        response = client.patch(f"/api/v1/roles/{customer.pk}/", {"permissions": ["accounts.view_user"]})
        assert response.status_code == 409
        assert role_named("customer").description != "Buyers"
        assert "accounts.view_user" not in client.get(f"/api/v1/roles/{customer.pk}/").json()["permissions"]

    @pytest.mark.parametrize("path", ["/api/v1/roles/abc/", "/api/v1/roles/99999999999999999999999999/"])
    def test_malformed_role_ids_are_404(self, api, role_manager, path):
        assert api(role_manager).get(path).status_code == 404

    def test_deleting_a_role_takes_it_from_its_users(self, api, role_manager, make_user):
        role_id = api(role_manager).post("/api/v1/roles/", {"name": "temp"}).json()["id"]
        member = make_user()
        member.groups.add(role_id)
        assert api(role_manager).delete(f"/api/v1/roles/{role_id}/").status_code == 204
        assert not member.groups.exists()
        assert AuditLog.objects.filter(action="role.delete", target_id=str(role_id)).exists()

    def test_an_unknown_role_is_404(self, api, role_manager):
        assert api(role_manager).get("/api/v1/roles/999999/").status_code == 404

    def test_the_list_costs_the_same_queries_for_any_page_size(self, api, role_manager, count_queries):
        for i in range(12):
            api(role_manager).post("/api/v1/roles/", {"name": f"r{i}", "permissions": ["accounts.view_user"]})
        client = api(role_manager)
        assert count_queries(lambda: client.get("/api/v1/roles/?page_size=1")) == count_queries(
            lambda: client.get("/api/v1/roles/?page_size=12")
        )


class TestNoPrivilegeEscalation:
    def test_a_role_cannot_hold_permissions_its_creator_lacks(self, api, make_user):
        creator = make_user("accounts.manage_roles")
        response = api(creator).post(
            "/api/v1/roles/", {"name": "sneaky", "permissions": ["accounts.delete_user"]}
        )
        assert response.status_code == 403
        assert "accounts.delete_user" in response.json()["message"]
        assert not Group.objects.filter(name="sneaky").exists()

    def test_permissions_cannot_be_added_to_a_role_beyond_the_editors_own(self, api, make_user, role_manager):
        role_id = api(role_manager).post("/api/v1/roles/", {"name": "viewers"}).json()["id"]
        editor = make_user("accounts.manage_roles")
        response = api(editor).patch(f"/api/v1/roles/{role_id}/", {"permissions": ["accounts.view_user"]})
        assert response.status_code == 403

    def test_nobody_can_give_themselves_a_role_above_their_own_permissions(self, api, make_user, seeded):
        climber = make_user("accounts.manage_roles")
        response = api(climber).put(f"/api/v1/users/{climber.pk}/roles/", {"roles": ["admin"]})
        assert response.status_code == 403
        assert not climber.groups.exists()

    def test_only_superusers_change_a_superusers_roles(self, api, role_manager, make_user, seeded):
        root = make_user(is_superuser=True)
        response = api(role_manager).put(f"/api/v1/users/{root.pk}/roles/", {"roles": []})
        assert response.status_code == 403

    def test_superusers_may_grant_anything(self, api, make_user, seeded):
        root = make_user(is_superuser=True)
        member = make_user()
        assert api(root).put(f"/api/v1/users/{member.pk}/roles/", {"roles": ["admin"]}).status_code == 200


class TestPermissions:
    def test_lists_assignable_permissions_by_name(self, api, role_manager):
        body = api(role_manager).get("/api/v1/permissions/", {"page_size": 100}).json()
        names = {p["name"] for p in body["results"]}
        assert "accounts.manage_roles" in names
        assert not any(name.startswith(("sessions.", "contenttypes.", "admin.")) for name in names)

    def test_the_list_costs_the_same_queries_for_any_page_size(self, api, role_manager, count_queries):
        client = api(role_manager)
        assert count_queries(lambda: client.get("/api/v1/permissions/?page_size=1")) == count_queries(
            lambda: client.get("/api/v1/permissions/?page_size=100")
        )

    def test_filters_by_app(self, api, role_manager):
        body = api(role_manager).get("/api/v1/permissions/", {"app": "logs"}).json()
        assert body["count"] > 0
        assert {p["app_label"] for p in body["results"]} == {"logs"}


class TestUserRoles:
    def test_reads_and_replaces_a_users_roles_by_name(self, api, role_manager, seeded, make_user):
        member = make_user()
        url = f"/api/v1/users/{member.pk}/roles/"
        assert api(role_manager).get(url).json() == {"roles": []}
        response = api(role_manager).put(url, {"roles": ["manager", "provider"]})
        assert response.status_code == 200
        assert response.json() == {"roles": ["manager", "provider"]}
        assert api(role_manager).put(url, {"roles": ["customer"]}).json() == {"roles": ["customer"]}
        entries = AuditLog.objects.filter(action="user.roles_update").order_by("id")
        assert [e.changes["roles"] for e in entries] == [
            [[], ["manager", "provider"]],
            [["manager", "provider"], ["customer"]],
        ]

    def test_unknown_roles_are_a_field_error_and_change_nothing(self, api, role_manager, seeded, make_user):
        member = make_user()
        response = api(role_manager).put(
            f"/api/v1/users/{member.pk}/roles/", {"roles": ["customer", "wizard"]}
        )
        assert response.status_code == 400
        assert "wizard" in response.json()["field_errors"]["roles"][0]
        assert not member.groups.exists()

    def test_new_roles_take_effect_on_the_next_request(self, api, role_manager, seeded, make_user):
        member = make_user()
        client = api(member)
        assert client.get("/api/v1/users/").status_code == 403
        api(role_manager).put(f"/api/v1/users/{member.pk}/roles/", {"roles": ["manager"]})
        assert client.get("/api/v1/users/").status_code == 200
        api(role_manager).put(f"/api/v1/users/{member.pk}/roles/", {"roles": []})
        assert client.get("/api/v1/users/").status_code == 403
