"""Catalog fixtures. Every test here touches the logs database too: catalog writes are audited."""

import pytest

from tests.products.factories import CATALOG_PERMISSIONS, new_category, new_product


@pytest.fixture
def make_category(db):
    return new_category


@pytest.fixture
def make_product(db):
    return new_product


@pytest.fixture
def category(make_category):
    return make_category(name="Books")


@pytest.fixture
def staff(make_user):
    """Catalog staff: every catalog permission (and not `is_staff`: the permissions alone decide)."""
    return make_user(*CATALOG_PERMISSIONS)


@pytest.fixture
def customer(make_user):
    """A signed-in customer: may view the catalog (as the customer role may), but is not staff."""
    return make_user("products.view_product", "products.view_category")
