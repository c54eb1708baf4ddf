"""Path ids: a detail route's id is a bigint key, 1 to 2**63 - 1. Anything else names no resource:
a 404 before authentication, never a question to the database."""

import pytest

from apps.core.api import GenericViewSet
from config.api_router import router

pytestmark = pytest.mark.django_db(databases="__all__")


def _detail_prefixes() -> list[str]:
    prefixes = []
    for prefix, viewset, _basename in router.registry:
        if issubclass(viewset, GenericViewSet) and {"retrieve", "partial_update", "destroy"} & set(
            dir(viewset)
        ):
            prefixes.append(prefix)
    return sorted(set(prefixes))


def test_every_resource_with_detail_routes_is_covered():
    assert {"users", "bookings", "providers", "audit-logs", "notifications", "roles"} <= set(
        _detail_prefixes()
    )


@pytest.mark.parametrize("prefix", _detail_prefixes())
@pytest.mark.parametrize("value", ["0", str(2**63), "9999999999999999999", "99999999999999999999", "\uff11"])
def test_an_id_outside_the_bigint_range_is_404_even_unauthenticated(api, prefix, value):
    response = api().get(f"/api/v1/{prefix}/{value}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_largest_bigint_is_looked_up_as_usual(api, make_user):
    staff = make_user("accounts.view_user")
    assert api().get(f"/api/v1/users/{2**63 - 1}/").status_code == 401
    assert api(staff).get(f"/api/v1/users/{2**63 - 1}/").status_code == 404


def test_a_detail_action_checks_the_id_too(api, make_user):
    response = api(make_user()).post(f"/api/v1/bookings/{2**63}/cancel/", {})
    assert response.status_code == 404


def test_the_id_check_runs_before_authentication(api):
    # A custom detail action that reads the id itself gets it checked as well.
    assert api().get(f"/api/v1/providers/{2**63}/availability/", {"date": "2030-01-01"}).status_code == 404
