"""What a catalog read costs the database: a fixed number of queries, whatever the page size, with each
product's category read in the same query as the product.

Every read here is a cache miss (the cache is emptied first): a hit costs no query at all, which
test_cache.py shows.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.query_timeout import statement_timeout
from apps.products import services
from apps.products.models import Product

pytestmark = pytest.mark.django_db(databases="__all__")

PRODUCTS = "/api/v1/products/"
# The catalog's own queries: a list counts its matches (up to the cap) and reads one page; a detail
# reads one row. Staff are authenticated first: their account and their two sets of permissions.
LIST_QUERIES, DETAIL_QUERIES, AUTHENTICATION_QUERIES = 2, 1, 3


@pytest.fixture
def catalog(make_category):
    """120 products in three categories, a few of them inactive: more than the largest page."""
    categories = [make_category() for _ in range(3)]
    Product.objects.bulk_create(
        Product(
            name=f"Product {n}",
            slug=f"product-{n}",
            sku=f"SKU-{n}",
            price=Decimal(n + 1),
            stock=n % 4,
            is_active=n % 12 != 0,
            category=categories[n % 3],
        )
        for n in range(120)
    )
    return Product.objects.filter(is_active=True).order_by("pk").first()


def statement_timeout_queries() -> int:
    """What the statement timeout of a public read that misses the cache costs by itself: nothing
    where there is no such setting (SQLite), its SET (and in a test's transaction, a savepoint and
    putting the setting back) on PostgreSQL."""
    with (
        CaptureQueriesContext(connection) as captured,
        statement_timeout(settings.CATALOG_STATEMENT_TIMEOUT_MS),
    ):
        pass
    return len(captured)


@pytest.fixture(params=["anonymous", "staff"])
def caller(request, api, staff):
    """A client and the queries each of its requests costs besides the catalog's own: staff's
    authentication, or the public read's statement timeout."""
    if request.param == "anonymous":
        return api(), statement_timeout_queries()
    return api(staff), AUTHENTICATION_QUERIES


def cold(read):
    """`read`, always as a cache miss."""

    def cold_read():
        cache.clear()
        return read()

    return cold_read


def category_reads(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if 'FROM "products_category"' in query["sql"]]


@pytest.mark.parametrize("page_size", [5, 100])
def test_a_product_list_is_a_fixed_number_of_queries(
    caller, catalog, django_assert_max_num_queries, page_size
):
    client, authentication = caller
    with django_assert_max_num_queries(authentication + LIST_QUERIES) as captured:
        response = cold(lambda: client.get(PRODUCTS, {"page_size": page_size}))()
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert all(item["category"]["name"] for item in response.json()["results"])
    assert category_reads(captured) == []  # joined to the products, not read on its own


def test_a_product_list_costs_the_same_for_any_page_size(caller, catalog, count_queries):
    client, _ = caller
    small = count_queries(cold(lambda: client.get(PRODUCTS, {"page_size": 5})))
    large = count_queries(cold(lambda: client.get(PRODUCTS, {"page_size": 100})))
    assert small == large


def test_a_filtered_and_ordered_list_costs_one_query_more(caller, catalog, django_assert_max_num_queries):
    # The one more: the `category` filter reads the category's id first, so that the product query
    # gets it as a constant its per-category indexes can use.
    client, authentication = caller
    params = {"page_size": 100, "category": catalog.category.slug, "in_stock": "true", "ordering": "-price"}
    with django_assert_max_num_queries(authentication + LIST_QUERIES + 1):
        assert cold(lambda: client.get(PRODUCTS, params))().status_code == 200


def test_a_product_detail_is_one_query(caller, catalog, django_assert_max_num_queries):
    client, authentication = caller
    with django_assert_max_num_queries(authentication + DETAIL_QUERIES) as captured:
        response = cold(lambda: client.get(f"{PRODUCTS}{catalog.pk}/"))()
    assert response.json()["category"]["id"] == catalog.category_id
    assert category_reads(captured) == []


def test_a_category_list_costs_the_same_for_any_page_size(caller, make_category, count_queries):
    client, _ = caller
    for _ in range(30):
        make_category()
    small = count_queries(cold(lambda: client.get("/api/v1/categories/", {"page_size": 5})))
    large = count_queries(cold(lambda: client.get("/api/v1/categories/", {"page_size": 100})))
    assert small == large


def test_a_products_stock_movements_cost_the_same_for_any_page_size(api, staff, make_product, count_queries):
    product = make_product(stock=100)
    for _ in range(30):
        services.stock_adjust(product=product, delta=-1, reason="sale", actor=staff)
    url = f"{PRODUCTS}{product.pk}/stock-movements/"
    small = count_queries(lambda: api(staff).get(url, {"page_size": 5}))
    large = count_queries(lambda: api(staff).get(url, {"page_size": 100}))
    assert small == large
