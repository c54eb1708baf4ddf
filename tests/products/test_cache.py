"""The public catalog is answered from the cache, and every catalog write shows on the very next read.

These tests commit for real (`transaction=True`): the cache version moves when a write commits, as
in production, not when a test's wrapping transaction would have. They run on whichever cache the
settings name: the local-memory cache by default, Redis when REDIS_URL is set.
"""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import BrowsableAPIRenderer

from apps.core.renderers import JSONRenderer
from apps.products.cache import VERSION_KEY
from apps.products.models import Product

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def detail(product) -> str:
    return f"{PRODUCTS}{product.pk}/"


def behind_the_services_back(product, **fields) -> None:
    """Change a row without a service: nothing tells the cache."""
    Product.objects.filter(pk=product.pk).update(**fields)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


@pytest.fixture
def product(make_product, category):
    return make_product(name="Chess set", category=category, price=Decimal("20.00"), stock=5)


class TestPublicReadsAreCached:
    @pytest.mark.parametrize(
        "path",
        [
            lambda product: PRODUCTS,
            detail,
            lambda product: CATEGORIES,
            lambda product: f"{CATEGORIES}{product.category_id}/",
        ],
        ids=["product list", "product detail", "category list", "category detail"],
    )
    def test_a_repeated_read_costs_no_query(self, api, product, path):
        with CaptureQueriesContext(connection) as first_read:
            first = api().get(path(product))
        with CaptureQueriesContext(connection) as second_read:
            second = api().get(path(product))
        assert (first.status_code, second.status_code) == (200, 200)
        assert (len(first_read) > 0, len(second_read)) == (True, 0)
        assert second.content == first.content
        assert second["Content-Type"] == "application/json"

    def test_a_row_changed_behind_the_services_back_shows_only_after_a_service_write(
        self, api, staff, product, make_product
    ):
        assert api().get(detail(product)).json()["name"] == "Chess set"
        behind_the_services_back(product, name="Renamed quietly")
        assert api().get(detail(product)).json()["name"] == "Chess set"
        make_product(name="Something else")  # any catalog write moves the version
        assert api().get(detail(product)).json()["name"] == "Renamed quietly"

    def test_signed_in_customers_share_the_public_cache(self, api, customer, product):
        assert names(api().get(PRODUCTS)) == ["Chess set"]
        behind_the_services_back(product, name="Renamed quietly")
        assert names(api(customer).get(PRODUCTS)) == ["Chess set"]

    def test_each_query_string_is_its_own_entry(self, api, product, make_product):
        make_product(name="Atlas", category=product.category)
        assert names(api().get(PRODUCTS, {"ordering": "name"})) == ["Atlas", "Chess set"]
        assert names(api().get(PRODUCTS, {"ordering": "-name"})) == ["Chess set", "Atlas"]
        assert names(api().get(PRODUCTS, {"ordering": "name", "page_size": 1})) == ["Atlas"]

    @pytest.mark.parametrize("path", [lambda product: PRODUCTS, detail], ids=["list", "detail"])
    def test_the_content_type_is_the_bodys(self, api, product, path, monkeypatch):
        # Where the browsable API is installed (development), a browser's Accept picks it.
        from apps.products.views import ProductViewSet

        monkeypatch.setattr(ProductViewSet, "renderer_classes", [JSONRenderer, BrowsableAPIRenderer])
        for _ in range(2):  # a miss, then a hit
            page = api().get(path(product), HTTP_ACCEPT="text/html")
            assert page["Content-Type"].startswith("text/html")
            assert page.content.lstrip().startswith(b"<!DOCTYPE html>")
            data = api().get(path(product), HTTP_ACCEPT="application/json")
            assert data["Content-Type"] == "application/json"
            assert data.json()

    def test_a_parameter_nothing_reads_shares_the_entry_of_the_url_without_it(self, api, product):
        assert names(api().get(PRODUCTS, {"ordering": "name"})) == ["Chess set"]
        api().get(detail(product))
        behind_the_services_back(product, name="Renamed quietly")
        with CaptureQueriesContext(connection) as queries:
            listed = api().get(PRODUCTS, {"ordering": "name", "_": "1", "utm_source": "x"})
            shown = api().get(detail(product), {"_": "2"})
        assert names(listed) == ["Chess set"]
        assert shown.json()["name"] == "Chess set"
        assert len(queries) == 0

    def test_errors_are_not_cached(self, api, product):
        behind_the_services_back(product, is_active=False)
        assert api().get(detail(product)).status_code == 404
        behind_the_services_back(product, is_active=True)
        assert api().get(detail(product)).status_code == 200

    def test_a_lost_version_never_brings_back_an_older_answer(self, api, product):
        # The version key evicted on its own (Redis under memory pressure) while the entries stay:
        # each restart of the version must be newer than any an entry was stored under.
        cache.delete(VERSION_KEY)
        assert api().get(detail(product)).json()["stock"] == 5
        behind_the_services_back(product, stock=1)
        cache.delete(VERSION_KEY)
        assert api().get(detail(product)).json()["stock"] == 1


class TestWritesShowOnTheNextRead:
    def test_a_new_product(self, api, staff, product):
        assert names(api().get(PRODUCTS)) == ["Chess set"]
        payload = {"name": "Atlas", "sku": "AT-1", "price": "9.00", "category": product.category_id}
        assert api(staff).post(PRODUCTS, payload).status_code == 201
        assert names(api().get(PRODUCTS)) == ["Atlas", "Chess set"]

    def test_a_changed_product(self, api, staff, product):
        assert api().get(detail(product)).json()["price"] == "20.00"
        assert names(api().get(PRODUCTS, {"max_price": "20"})) == ["Chess set"]
        assert api(staff).patch(detail(product), {"price": "25.00"}).status_code == 200
        assert api().get(detail(product)).json()["price"] == "25.00"
        assert names(api().get(PRODUCTS, {"max_price": "20"})) == []

    def test_a_deactivated_product(self, api, staff, product):
        assert api().get(detail(product)).status_code == 200
        assert api(staff).patch(detail(product), {"is_active": False}).status_code == 200
        assert api().get(detail(product)).status_code == 404
        assert names(api().get(PRODUCTS)) == []

    @pytest.mark.parametrize("stock", [0, 5], ids=["without history", "with stock history"])
    def test_a_deleted_product(self, api, staff, make_product, category, stock):
        product = make_product(name="Chess set", category=category, stock=stock)
        assert names(api().get(PRODUCTS)) == ["Chess set"]
        assert api().get(detail(product)).status_code == 200
        assert api(staff).delete(detail(product)).status_code == 204
        assert api().get(detail(product)).status_code == 404
        assert names(api().get(PRODUCTS)) == []

    def test_a_stock_adjustment(self, api, staff, product):
        assert api().get(detail(product)).json()["stock"] == 5
        assert names(api().get(PRODUCTS, {"in_stock": "true"})) == ["Chess set"]
        response = api(staff).post(f"{detail(product)}stock/", {"delta": -5, "reason": "sale"})
        assert response.status_code == 200
        assert api().get(detail(product)).json()["stock"] == 0
        assert names(api().get(PRODUCTS, {"in_stock": "true"})) == []

    def test_a_renamed_category(self, api, staff, product):
        assert api().get(detail(product)).json()["category"]["name"] == "Books"
        assert api().get(f"{CATEGORIES}{product.category_id}/").json()["name"] == "Books"
        assert api(staff).patch(f"{CATEGORIES}{product.category_id}/", {"name": "Games"}).status_code == 200
        assert api().get(detail(product)).json()["category"]["name"] == "Games"
        assert api().get(f"{CATEGORIES}{product.category_id}/").json()["name"] == "Games"

    def test_a_deactivated_category_takes_its_products_off_the_public_catalog(self, api, staff, product):
        assert names(api().get(PRODUCTS)) == ["Chess set"]
        assert names(api().get(CATEGORIES)) == ["Books"]
        assert (
            api(staff).patch(f"{CATEGORIES}{product.category_id}/", {"is_active": False}).status_code == 200
        )
        assert names(api().get(PRODUCTS)) == []
        assert names(api().get(CATEGORIES)) == []
        assert api().get(detail(product)).status_code == 404

    def test_a_new_and_a_deleted_category(self, api, staff, category):
        assert names(api().get(CATEGORIES)) == ["Books"]
        created = api(staff).post(CATEGORIES, {"name": "Games"})
        assert names(api().get(CATEGORIES)) == ["Books", "Games"]
        assert api(staff).delete(f"{CATEGORIES}{created.json()['id']}/").status_code == 204
        assert names(api().get(CATEGORIES)) == ["Books"]

    def test_a_refused_write_leaves_the_cache_alone(self, api, staff, product, django_assert_num_queries):
        api().get(detail(product))
        assert api(staff).post(f"{detail(product)}stock/", {"delta": -6, "reason": "sale"}).status_code == 409
        with django_assert_num_queries(0):
            assert api().get(detail(product)).json()["stock"] == 5


class TestStaffReadsAreNeverCached:
    def test_staff_see_every_change_at_once(self, api, staff, product):
        assert names(api(staff).get(PRODUCTS)) == ["Chess set"]
        behind_the_services_back(product, name="Renamed quietly")
        assert names(api(staff).get(PRODUCTS)) == ["Renamed quietly"]
        assert api(staff).get(detail(product)).json()["name"] == "Renamed quietly"

    def test_what_staff_read_never_reaches_the_public(self, api, staff, product, make_product):
        withdrawn = make_product(name="Withdrawn", category=product.category)
        behind_the_services_back(withdrawn, is_active=False)
        assert names(api(staff).get(PRODUCTS)) == ["Withdrawn", "Chess set"]
        assert names(api().get(PRODUCTS)) == ["Chess set"]
        assert "low_stock_threshold" in api(staff).get(detail(product)).json()
        assert "low_stock_threshold" not in api().get(detail(product)).json()
