import pytest
from model_bakery import baker

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


def test_staff_read_login_events_from_the_analytics_database(client, superuser):
    baker.make("analytics.LoginEvent", email="ada@example.com", success=False, _quantity=3)
    client.force_login(superuser)
    response = client.get("/admin/analytics/loginevent/?success__exact=0")
    assert response.status_code == 200
    assert response.content.count(b"ada@example.com") == 3


def test_login_events_cannot_be_added_or_edited_in_the_admin(client, superuser):
    event = baker.make("analytics.LoginEvent", success=True)
    client.force_login(superuser)
    assert client.get("/admin/analytics/loginevent/add/").status_code == 403
    response = client.post(f"/admin/analytics/loginevent/{event.pk}/change/", {"email": "changed"})
    assert response.status_code == 403
