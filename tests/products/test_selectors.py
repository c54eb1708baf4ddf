"""The product search on PostgreSQL: migration 0002's trigram indexes exist, and a search over the
catalog can use them instead of reading every row."""

import re
from decimal import Decimal

import pytest
from django.db import connection

from apps.products.models import Product
from apps.products.selectors import product_list, product_search

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes need PostgreSQL"),
    pytest.mark.django_db(databases="__all__"),
]

TRIGRAM_INDEXES = {
    "name": "products_product_name_trgm",
    "sku": "products_product_sku_trgm",
    "description": "products_product_description_trgm",
}
WOODS = ("oak", "pine", "birch", "maple", "cherry", "teak", "ash", "elm")


def product_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products_product'")
        return dict(cursor.fetchall())


@pytest.mark.parametrize("column", TRIGRAM_INDEXES)
def test_each_searched_column_has_a_trigram_index_on_the_searched_expression(column):
    definition = product_indexes()[TRIGRAM_INDEXES[column]]
    assert "USING gin" in definition
    # `icontains` compares UPPER(col::text); PostgreSQL prints the cast only where it is not a no-op.
    assert re.search(rf"upper\(\(?{column}\)?(::text\))? gin_trgm_ops", definition), definition


@pytest.fixture
def large_catalog(category):
    """2,000 products, of which a handful are walnut: a search that the indexes narrow sharply."""
    Product.objects.bulk_create(
        Product(
            name=f"{'Walnut' if n % 400 == 0 else WOODS[n % len(WOODS)].title()} chair {n}",
            slug=f"chair-{n}",
            sku=f"CH-{n:05d}",
            description=f"A {WOODS[n % len(WOODS)]} chair, model {n}.",
            price=Decimal("50.00"),
            category=category,
        )
        for n in range(2000)
    )
    with connection.cursor() as cursor:
        # Rows inserted into a GIN index wait in its pending list, which the planner prices as a slow
        # scan, until a vacuum merges them; autovacuum does that in production, this does it now.
        for index in TRIGRAM_INDEXES.values():
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE products_product")
        cursor.execute("ANALYZE products_category")


@pytest.mark.parametrize("include_inactive", [False, True], ids=["public", "staff"])
def test_a_search_reads_the_trigram_indexes(large_catalog, include_inactive):
    search = product_search(product_list(include_inactive=include_inactive), "walnut")
    assert search.count() == 5
    with connection.cursor() as cursor:
        # Ask whether the indexes can serve the search, not whether this small table is worth them:
        # a sequential scan is made to look prohibitively expensive, for this transaction only.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = search.explain()
    assert "Bitmap Index Scan" in plan, plan
    assert [index for index in TRIGRAM_INDEXES.values() if index not in plan] == [], plan
