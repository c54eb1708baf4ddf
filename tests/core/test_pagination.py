import pytest
from model_bakery import baker

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db(databases=["default", "logs"])]


@pytest.fixture
def trail():
    return baker.make("logs.AuditLog", action="user.login", _quantity=130)


def test_lists_use_count_next_previous_results(api_client, trail):
    body = api_client.get("/test/trail/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 130
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_clients_choose_the_page_size(api_client, trail):
    assert len(api_client.get("/test/trail/?page_size=5").json()["results"]) == 5


def test_page_size_is_capped_at_100(api_client, trail):
    assert len(api_client.get("/test/trail/?page_size=100000").json()["results"]) == 100


def test_a_page_past_the_end_is_404(api_client, trail):
    response = api_client.get("/test/trail/?page=99")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_cursor_pagination_orders_newest_first_without_counting():
    from apps.core.pagination import CursorPagination

    assert CursorPagination.ordering == "-created_at"
    assert CursorPagination.max_page_size == 100
