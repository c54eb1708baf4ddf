"""Selectors: each call answers what the database holds now."""

import pytest

from apps.accounts import selectors

pytestmark = pytest.mark.django_db(databases="__all__")


def test_user_rows_are_read_afresh_on_every_call(make_user):
    make_user(email="ada@example.com")
    first = selectors.user_rows_for_display()
    assert [row["email"] for row in first] == ["ada@example.com"]
    make_user(email="grace@example.com")
    assert [row["email"] for row in selectors.user_rows_for_display()] == [
        "ada@example.com",
        "grace@example.com",
    ]
    assert [row["email"] for row in first] == ["ada@example.com"]  # an evaluated page stays as it was


def test_user_rows_filtered_by_one_caller_are_not_filtered_for_the_next(make_user):
    make_user(email="ada@example.com")
    make_user(email="grace@example.com")
    assert selectors.user_rows_for_display().filter(email="ada@example.com").count() == 1
    assert selectors.user_rows_for_display().count() == 2
