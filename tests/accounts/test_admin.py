import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_staff_can_list_and_search_users(admin_client, user):
    response = admin_client.get("/admin/accounts/user/?q=ada")
    assert response.status_code == 200
    assert b"ada@example.com" in response.content


def test_staff_can_open_a_user(admin_client, user):
    assert admin_client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_staff_can_add_a_user_with_a_password(admin_client):
    from apps.accounts.models import User

    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@example.com",
            "username": "newbie",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-very-long-password-1",
            "password2": "a-very-long-password-1",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("a-very-long-password-1")
