import pytest
from model_bakery import baker

pytestmark = pytest.mark.django_db(databases=["default", "logs"])


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_staff_filter_the_audit_trail_by_action(admin_client):
    baker.make("logs.AuditLog", action="user.login", target_id="kept")
    baker.make("logs.AuditLog", action="user.logout", target_id="filtered-out")
    response = admin_client.get("/admin/logs/auditlog/?action=user.login")
    assert response.status_code == 200
    assert b"kept" in response.content
    assert b"filtered-out" not in response.content


def test_staff_read_the_application_log(admin_client):
    entry = baker.make("logs.ApplicationLog", level="ERROR", message="disk nearly full")
    assert b"disk nearly full" in admin_client.get("/admin/logs/applicationlog/").content
    assert admin_client.get(f"/admin/logs/applicationlog/{entry.pk}/change/").status_code == 200


def test_log_records_are_read_only_in_the_admin(admin_client):
    entry = baker.make("logs.AuditLog", action="user.login")
    assert admin_client.get("/admin/logs/auditlog/add/").status_code == 403
    assert admin_client.post(f"/admin/logs/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
