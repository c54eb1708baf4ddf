"""Text fields take JSON strings only: a number is a 400 naming the field, never quietly "0"."""

import pytest

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_number_for_a_text_field_is_a_field_error(api, make_user):
    user = make_user(username="ada")
    response = api(user).patch("/api/v1/users/me/", {"username": 0, "full_name": 12})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"username", "full_name"}
    user.refresh_from_db()
    assert user.username == "ada"


def test_a_number_in_a_list_of_names_is_a_field_error_of_that_item(api, superuser):
    response = api(superuser).post("/api/v1/roles/", {"name": "x", "description": 0, "permissions": [1]})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"description", "permissions.0"}


def test_an_email_must_be_a_string_too(api):
    response = api().post("/api/v1/auth/login/", {"email": 5, "password": "x"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["email"]


def test_a_slug_must_be_a_string_too(api, superuser):
    response = api(superuser).post("/api/v1/categories/", {"name": "Books", "slug": 0})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["slug"]
