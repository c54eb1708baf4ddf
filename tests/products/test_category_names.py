"""Category names: no invisible or control characters (apps/core/validators.py), in the API and the
admin, so two categories cannot look like one."""

import pytest

from apps.products.models import Category

pytestmark = pytest.mark.django_db(databases="__all__")

CATEGORIES = "/api/v1/categories/"


@pytest.mark.parametrize(
    "name", ["Books\x00", "Bo\u200boks", "Books\nand more", "\u202eskooB", "Boo\u2028ks"]
)
def test_a_name_with_control_or_invisible_characters_is_refused(api, staff, name):
    response = api(staff).post(CATEGORIES, {"name": name, "slug": "books-2"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["name"]
    assert not Category.objects.exists()


def test_a_rename_to_one_is_refused(api, staff, category):
    response = api(staff).patch(f"{CATEGORIES}{category.pk}/", {"name": f"{category.name}\u200d"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["name"]


def test_names_in_any_script_are_fine(api, staff):
    assert api(staff).post(CATEGORIES, {"name": "Bücher & 本"}).status_code == 201


def test_the_admin_refuses_them_too(client, superuser):
    client.force_login(superuser)
    response = client.post(
        "/admin/products/category/add/", {"name": "Bo\u200boks", "slug": "books", "is_active": "on"}
    )
    assert response.status_code == 200, "the form again, with its error"
    assert "name" in response.context["adminform"].form.errors
    assert not Category.objects.exists()
