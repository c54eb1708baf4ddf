from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from apps.analytics.models import LoginEvent

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/api/v1/analytics/logins/"


def event(days_ago: int, success: bool, user_id: int | None = 1):
    return baker.make(
        LoginEvent, success=success, user_id=user_id, created_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.fixture
def analyst(make_user):
    return make_user("analytics.view_loginevent")


def test_needs_authentication_and_the_permission(api, make_user):
    assert api().get(URL).status_code == 401
    assert api(make_user()).get(URL).status_code == 403


def test_totals_success_rate_and_a_gapless_daily_series(api, analyst):
    event(0, True), event(0, False), event(2, True), event(2, True), event(40, False)
    body = api(analyst).get(URL, {"days": 7}).json()
    assert (body["total"], body["successful"], body["failed"]) == (4, 3, 1)
    assert body["success_rate"] == 0.75
    assert len(body["series"]) == 7
    by_date = {row["date"]: row for row in body["series"]}
    today = timezone.localdate()
    assert by_date[str(today)] == {"date": str(today), "total": 2, "successful": 1, "failed": 1}
    assert by_date[str(today - timedelta(days=2))]["successful"] == 2
    assert by_date[str(today - timedelta(days=1))]["total"] == 0


def test_filters_by_user(api, analyst):
    event(0, True, user_id=1), event(0, False, user_id=2), event(0, False, user_id=2)
    body = api(analyst).get(URL, {"user": 2}).json()
    assert (body["user"], body["total"], body["failed"]) == (2, 2, 2)


def test_no_attempts_means_no_success_rate(api, analyst):
    body = api(analyst).get(URL).json()
    assert body["days"] == 30 and body["total"] == 0 and body["success_rate"] is None


@pytest.mark.parametrize(
    "params", [{"days": 0}, {"days": 1000}, {"days": "week"}, {"user": "me"}, {"days": ""}, {"user": ""}]
)
def test_invalid_parameters_are_400_naming_them(api, analyst, params):
    response = api(analyst).get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["field_errors"]) == set(params)


def test_the_schema_documents_one_object_not_a_list(openapi_schema):
    schema = openapi_schema
    ok = schema["paths"][URL]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/LoginStats"}
    assert schema["components"]["schemas"]["LoginStats"]["type"] == "object"


def test_queries_do_not_grow_with_the_range(api, analyst, count_queries):
    for days_ago in range(0, 60, 3):
        event(days_ago, True)
    client = api(analyst)
    assert count_queries(lambda: client.get(URL, {"days": 2})) == count_queries(
        lambda: client.get(URL, {"days": 60})
    )


def test_failed_attempts_on_an_account_count_for_that_user(api, analyst, make_user):
    target = make_user(email="ada@example.com")
    api().post("/api/v1/auth/login/", {"email": "ADA@example.com", "password": "wrong-password"})
    api().post("/api/v1/auth/login/", {"email": "nobody@example.com", "password": "wrong-password"})
    body = api(analyst).get(URL, {"user": target.pk}).json()
    assert (body["total"], body["failed"]) == (1, 1)
