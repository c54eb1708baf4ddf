"""statement_timeout(): PostgreSQL stops a statement that runs past the limit, and the API answers
503 `query_timeout` in its error shape; the limit ends with the block."""

import pytest
from django.db import connection

from apps.core.query_timeout import QueryTimeout, statement_timeout
from tests.products.factories import new_product

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"),
    pytest.mark.django_db(databases="__all__"),
]

SLOW = "SELECT 1 FROM pg_sleep(0.5)"


def current_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        return cursor.fetchone()[0]


def test_a_statement_past_the_limit_is_a_query_timeout():
    before = current_timeout()
    with pytest.raises(QueryTimeout), statement_timeout(20), connection.cursor() as cursor:
        cursor.execute(SLOW)
    assert current_timeout() == before


def test_a_statement_within_the_limit_runs_and_the_limit_ends_with_the_block():
    before = current_timeout()
    with statement_timeout(5000), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert current_timeout() == "5s"
    assert current_timeout() == before


def test_a_slow_public_catalog_read_is_a_503_in_the_error_shape(api, settings, monkeypatch):
    from apps.products import selectors

    new_product()
    slow = selectors.product_list
    monkeypatch.setattr(
        selectors, "product_list", lambda **kw: slow(**kw).extra(where=["(SELECT 1 FROM pg_sleep(0.5)) = 1"])
    )
    settings.CATALOG_STATEMENT_TIMEOUT_MS = 20
    response = api().get("/api/v1/products/")
    assert response.status_code == 503
    assert response.json()["code"] == "query_timeout"
