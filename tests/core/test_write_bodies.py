"""Write bodies are taken exactly: a field the endpoint does not take (unknown or read-only) is a 400
naming it, never silently dropped, and a boolean is JSON `true` or `false`, nothing else."""

import importlib
import inspect
import pkgutil

import pytest
from rest_framework import serializers

import apps
from apps.core import fields
from apps.core.api import unexpected_fields
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    return response.json()["field_errors"]


class TestUnknownFields:
    def test_the_email_is_not_changed_through_users_me(self, api, make_user):
        user = make_user(full_name="Ada")
        errors = field_errors(
            api(user).patch("/api/v1/users/me/", {"email": "x@example.com", "full_name": "B"})
        )
        assert list(errors) == ["email"]
        assert "full_name" in errors["email"][0]  # the message lists what may be sent
        user.refresh_from_db()
        assert (user.email, user.full_name) != ("x@example.com", "B")

    def test_staff_cannot_set_is_staff_through_users(self, api, make_user):
        other = make_user()
        response = api(make_user("accounts.change_user")).patch(
            f"/api/v1/users/{other.pk}/", {"is_staff": True}
        )
        assert list(field_errors(response)) == ["is_staff"]
        other.refresh_from_db()
        assert not other.is_staff

    def test_a_misspelt_field_is_named_beside_the_missing_one(self, api, make_user):
        staff = make_user("products.add_category")
        errors = field_errors(api(staff).post("/api/v1/categories/", {"nmae": "Books"}))
        assert set(errors) == {"nmae", "name"}

    def test_an_extra_form_field_of_an_image_upload_is_refused(self, api, make_user):
        product = new_product()
        response = api(make_user("products.change_product")).post(
            f"/api/v1/products/{product.pk}/image/", {"alt": "A lamp"}, format="multipart"
        )
        assert set(field_errors(response)) == {"alt", "image"}

    def test_a_read_only_field_is_named_as_read_only(self):
        class Example(serializers.Serializer):
            name = fields.CharField()
            id = serializers.IntegerField(read_only=True)

        assert unexpected_fields(Example(data={}), {"name": "x", "id": 3}) == {
            "id": ["This field is read-only."]
        }

    def test_nested_and_listed_fields_are_named_by_their_path(self):
        class Item(serializers.Serializer):
            sku = fields.CharField()

        class Order(serializers.Serializer):
            item = Item()
            items = Item(many=True)

        data = {"item": {"sku": "a", "colour": "red"}, "items": [{"sku": "b"}, {"size": 3}]}
        assert set(unexpected_fields(Order(data=data), data)) == {"item.colour", "items.1.size"}


class TestStrictBooleans:
    @pytest.mark.parametrize("value", [0, 1, "true", "false", "yes", "on", None])
    def test_is_active_of_a_user_takes_json_booleans_only(self, api, make_user, value):
        other = make_user()
        response = api(make_user("accounts.change_user")).patch(
            f"/api/v1/users/{other.pk}/", {"is_active": value}
        )
        assert list(field_errors(response)) == ["is_active"]
        other.refresh_from_db()
        assert other.is_active

    def test_no_writable_boolean_of_the_api_is_drfs_lenient_one(self):
        lenient = []
        for module in _serializer_modules():
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if not issubclass(cls, serializers.BaseSerializer) or cls.__module__ != module.__name__:
                    continue
                if issubclass(cls, serializers.ModelSerializer) and not issubclass(
                    cls, fields.ModelSerializer
                ):
                    lenient.append(
                        f"{name} (a ModelSerializer not built on apps.core.fields.ModelSerializer)"
                    )
                for field_name, field in getattr(cls, "_declared_fields", {}).items():
                    if (
                        isinstance(field, serializers.BooleanField)
                        and not field.read_only
                        and not isinstance(field, fields.BooleanField)
                    ):
                        lenient.append(f"{name}.{field_name}")
        assert lenient == []


def _serializer_modules():
    for info in pkgutil.walk_packages(apps.__path__, "apps."):
        if info.name.endswith(".serializers"):
            yield importlib.import_module(info.name)
