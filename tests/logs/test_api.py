import pytest
from model_bakery import baker

from apps.logs.models import AuditLog

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/api/v1/audit-logs/"


@pytest.fixture
def auditor(make_user):
    return make_user("logs.view_auditlog")


def test_needs_authentication_and_the_permission(api, make_user):
    entry = baker.make(AuditLog, action="user.login")
    assert api().get(URL).status_code == 401
    assert api(make_user()).get(URL).status_code == 403
    assert api(make_user()).get(f"{URL}{entry.pk}/").status_code == 403


def test_lists_newest_first_with_cursor_pages(api, auditor):
    entries = baker.make(AuditLog, action="user.login", _quantity=5)
    first = api(auditor).get(URL, {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    assert [e["id"] for e in first["results"]] == [entries[4].pk, entries[3].pk]
    second = api(auditor).get(first["next"]).json()
    assert [e["id"] for e in second["results"]] == [entries[2].pk, entries[1].pk]


def test_filters_by_actor_action_and_target_type(api, auditor):
    baker.make(AuditLog, actor_id=7, action="user.login", target_type="accounts.user")
    wanted = baker.make(AuditLog, actor_id=7, action="user.update", target_type="accounts.user")
    baker.make(AuditLog, actor_id=8, action="user.update", target_type="auth.group")
    params = {"actor": 7, "action": "user.update", "target_type": "accounts.user"}
    assert [e["id"] for e in api(auditor).get(URL, params).json()["results"]] == [wanted.pk]


def test_retrieves_one_entry(api, auditor):
    entry = baker.make(AuditLog, action="user.update", changes={"full_name": ["a", "b"]}, actor_id=3)
    body = api(auditor).get(f"{URL}{entry.pk}/").json()
    assert body["changes"] == {"full_name": ["a", "b"]} and body["actor"] == 3


@pytest.mark.parametrize("params", [{"actor": "someone"}, {"actor": "0.5"}, {"created_after": "yesterday"}])
def test_an_invalid_filter_is_a_400_naming_it(api, auditor, params):
    response = api(auditor).get(URL, params)
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == set(params)


def test_an_empty_filter_means_not_filtered(api, auditor):
    baker.make(AuditLog, action="user.login")
    assert len(api(auditor).get(URL, {"actor": "", "created_before": ""}).json()["results"]) == 1


def test_a_malformed_cursor_is_a_400_and_an_unknown_entry_a_404(api, auditor):
    assert api(auditor).get(URL, {"cursor": "garbage"}).status_code == 400
    assert api(auditor).get(f"{URL}999999/").status_code == 404


def test_the_trail_has_no_search_or_ordering_to_offer(api, auditor):
    older, newer = baker.make(AuditLog, action="user.login", _quantity=2)
    body = api(auditor).get(URL, {"ordering": "created_at", "search": "nothing-matches"}).json()
    assert [e["id"] for e in body["results"]] == [newer.pk, older.pk]


def test_the_trail_cannot_be_written_through_the_api(api, make_user):
    root = make_user(is_superuser=True)
    entry = baker.make(AuditLog, action="user.login")
    assert api(root).post(URL, {"action": "forged"}).status_code == 405
    assert api(root).delete(f"{URL}{entry.pk}/").status_code == 405


def test_queries_do_not_grow_with_the_page(api, auditor, count_queries):
    baker.make(AuditLog, action="user.login", _quantity=40)
    client = api(auditor)
    assert count_queries(lambda: client.get(URL, {"page_size": 1})) == count_queries(
        lambda: client.get(URL, {"page_size": 40})
    )
