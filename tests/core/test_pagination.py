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


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "last", "٣"])
def test_a_bad_page_is_a_400_naming_the_parameter(api_client, trail, page):
    response = api_client.get("/test/trail/", {"page": page})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["field_errors"] == {"page": ["A positive integer is required."]}


@pytest.mark.parametrize("page_size", ["0", "-5", "ten", "", "null"])
def test_a_bad_page_size_is_a_400_naming_the_parameter(api_client, trail, page_size):
    response = api_client.get("/test/trail/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"page_size": ["A positive integer is required."]}


def test_both_bad_parameters_are_named_at_once(api_client, trail):
    response = api_client.get("/test/trail/?page=0&page_size=0")
    assert set(response.json()["field_errors"]) == {"page", "page_size"}


def test_a_parameter_given_twice_is_a_400(api_client, trail):
    response = api_client.get("/test/trail/?page=1&page=2")
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"page"}


def test_the_first_page_of_an_empty_list_is_an_empty_page(api_client):
    body = api_client.get("/test/trail/?page=1").json()
    assert (body["count"], body["results"]) == (0, [])


def test_the_last_page_is_served_and_the_one_after_it_is_404(api_client, trail):
    assert len(api_client.get("/test/trail/?page=7").json()["results"]) == 10
    assert api_client.get("/test/trail/?page=8").status_code == 404


# --- Cursor pages (the audit trail) ---------------------------------------------------------------------
AUDIT_LOGS = "/api/v1/audit-logs/"


@pytest.fixture
def auditor(make_user):
    return make_user("logs.view_auditlog")


@pytest.mark.parametrize("cursor", ["garbage", "", "cD0yMDI0"])
def test_a_malformed_cursor_is_a_400_naming_the_parameter(api, auditor, trail, cursor):
    response = api(auditor).get(AUDIT_LOGS, {"cursor": cursor})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["field_errors"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.parametrize("position", ["not-a-date", "0001-01-01 00:00:00+01:00", "9999-12-31 23:59:59-01:00"])
def test_a_cursor_with_a_forged_position_is_a_400_too(api, auditor, trail, position):
    import base64
    from urllib.parse import urlencode

    forged = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = api(auditor).get(AUDIT_LOGS, {"cursor": forged})
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"cursor": ["Invalid cursor"]}


def test_cursor_pages_follow_the_page_size_rule(api, auditor, trail):
    assert api(auditor).get(AUDIT_LOGS, {"page_size": "0"}).json()["field_errors"] == {
        "page_size": ["A positive integer is required."]
    }
    assert len(api(auditor).get(AUDIT_LOGS, {"page_size": "500"}).json()["results"]) == 100


def test_a_cursor_the_server_handed_out_works(api, auditor, trail):
    first = api(auditor).get(AUDIT_LOGS, {"page_size": 100}).json()
    second = api(auditor).get(first["next"]).json()
    assert len(second["results"]) == 30
