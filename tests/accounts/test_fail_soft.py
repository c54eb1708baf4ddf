"""Sign-in keeps working when the analytics or logs database is unreachable."""

import pytest

from apps.analytics.models import LoginEvent
from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.mark.parametrize("alias", ["analytics", "logs"])
def test_login_succeeds_with_a_side_database_down(api, make_user, database_down, alias):
    user = make_user(email="ada@example.com")
    with database_down(alias):
        response = api().post(
            "/api/v1/auth/login/", {"email": "ada@example.com", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        assert client.get("/api/v1/users/me/").json()["id"] == user.pk


def test_a_failed_login_is_still_a_clean_401_with_analytics_down(api, make_user, database_down):
    make_user(email="ada@example.com")
    with database_down("analytics"):
        response = api().post("/api/v1/auth/login/", {"email": "ada@example.com", "password": "wrong"})
    assert response.status_code == 401
    assert not LoginEvent.objects.exists()


def test_admin_sign_ins_are_recorded_as_login_events(client, make_user):
    make_user(email="root@example.com", is_staff=True, is_superuser=True)
    client.post("/admin/login/", {"username": "root@example.com", "password": "wrong"})
    client.post("/admin/login/", {"username": "root@example.com", "password": DEFAULT_PASSWORD})
    events = list(LoginEvent.objects.order_by("id").values_list("method", "success"))
    assert events == [("admin", False), ("admin", True)]
