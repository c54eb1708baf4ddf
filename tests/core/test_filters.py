"""The filter backend: the FilterSet runs when the query names one of its filters, else not at all."""

import pytest

from apps.accounts.filters import UserFilter

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_list_without_filter_parameters_builds_no_filterset(api, make_user, monkeypatch):
    built = []
    original = UserFilter.__init__
    monkeypatch.setattr(
        UserFilter, "__init__", lambda self, *a, **kw: built.append(1) or original(self, *a, **kw)
    )
    staff = make_user("accounts.view_user")
    assert api(staff).get("/api/v1/users/", {"page": 1, "search": "a"}).status_code == 200
    assert built == []
    assert api(staff).get("/api/v1/users/", {"is_active": "true"}).status_code == 200
    assert built == [1]


def test_filter_parameters_still_filter_and_validate(api, make_user):
    make_user(is_active=False)
    staff = make_user("accounts.view_user")
    body = api(staff).get("/api/v1/users/", {"is_active": "false"}).json()
    assert body["count"] == 1
    assert api(staff).get("/api/v1/users/", {"is_active": "2"}).status_code == 400
