"""The before and after of an audited change: one rule for every app's audit entries."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from phonenumber_field.phonenumber import PhoneNumber

from apps.logs.snapshots import diff, json_value, snapshot
from tests.products.factories import new_category, new_product


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (None, None),
        (True, True),
        (3, 3),
        ("text", "text"),
        (Decimal("9.90"), "9.90"),  # the digits as written, not a float
        (datetime(2030, 1, 2, 10, 30, tzinfo=UTC), "2030-01-02T10:30:00+00:00"),
        (date(2030, 1, 2), "2030-01-02"),
        (time(9, 15), "09:15:00"),
        (PhoneNumber.from_string("+447700900123"), "+447700900123"),
        ({3, 1, 2}, [1, 2, 3]),
    ],
)
def test_a_value_is_stored_as_json(value, stored):
    assert json_value(value) == stored


@pytest.mark.django_db
def test_a_related_object_and_a_set_of_them_are_their_ids():
    first, second = Group.objects.create(name="b"), Group.objects.create(name="a")
    assert json_value(first) == first.pk
    assert json_value(Group.objects.all()) == sorted([first.pk, second.pk])


@pytest.mark.django_db(databases="__all__")
def test_a_snapshot_reads_a_foreign_key_as_its_id_without_a_query(django_assert_num_queries):
    product = new_product(category=new_category(name="Books"), price=Decimal("12.50"))
    product = type(product).objects.get(pk=product.pk)  # the category not loaded
    with django_assert_num_queries(0):
        state = snapshot(product, ("name", "price", "category", "is_active"))
    assert state == {
        "name": product.name,
        "price": "12.50",
        "category": product.category_id,
        "is_active": True,
    }


@pytest.mark.django_db(databases="__all__")
def test_diff_lists_only_the_fields_that_changed_before_and_after():
    product = new_product(price=Decimal("12.50"))
    before = snapshot(product, ("name", "price", "is_active"))
    product.price, product.is_active = Decimal("10.00"), False
    assert diff(before, product) == {"price": ["12.50", "10.00"], "is_active": [True, False]}


def test_diff_of_snapshots_counts_what_before_lacks_as_none():
    created = {"name": "Oak desk", "sku": "", "category": None}
    assert diff({}, created) == {"name": [None, "Oak desk"], "sku": [None, ""]}
    gone = {"name": "Oak desk", "is_active": True}
    assert diff(gone, dict.fromkeys(gone)) == {"name": ["Oak desk", None], "is_active": [True, None]}
    assert diff({"name": "a"}, {"name": "a", "slug": "b"}, ["name"]) == {}
