"""The filter backends: the FilterSet runs when the query names one of its filters, else not at all;
search and ordering leave the queryset alone when the query asks for neither."""

import pytest

from apps.accounts.filters import UserFilter
from apps.accounts.models import User
from apps.core.filters import OrderingFilter, SearchFilter

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


class TestSearchAndOrderingWithoutParameters:
    """A list whose query asks for no search and no ordering gets its queryset back as it was."""

    @pytest.fixture
    def view(self):
        from apps.accounts.views import UserViewSet

        return UserViewSet(search_fields=["email"], ordering_fields=["id", "email"], ordering=["id"])

    @staticmethod
    def request(query: dict):
        from rest_framework.request import Request
        from rest_framework.test import APIRequestFactory

        return Request(APIRequestFactory().get("/api/v1/users/", query))

    def test_no_search_parameter_leaves_the_queryset_alone_unparsed(self, view, monkeypatch):
        parsed = []
        monkeypatch.setattr(SearchFilter, "get_search_terms", lambda self, request: parsed.append(1) or [])
        users = User.objects.order_by("id")
        assert SearchFilter().filter_queryset(self.request({}), users, view) is users
        assert parsed == []

    def test_a_search_parameter_still_searches(self, make_user, view):
        make_user(email="grace@example.com")
        make_user(email="ada@example.com")
        found = SearchFilter().filter_queryset(self.request({"search": "grace"}), User.objects.all(), view)
        assert [user.email for user in found] == ["grace@example.com"]

    def test_a_queryset_already_in_the_default_order_is_not_ordered_again(self, view):
        users = User.objects.order_by("id")
        assert OrderingFilter().filter_queryset(self.request({}), users, view) is users

    def test_a_queryset_in_another_order_gets_the_default_order(self, view):
        users = User.objects.order_by("-email")
        ordered = OrderingFilter().filter_queryset(self.request({}), users, view)
        assert ordered.query.order_by == ("id",)

    def test_an_ordering_parameter_still_orders(self, view):
        users = User.objects.order_by("id")
        ordered = OrderingFilter().filter_queryset(self.request({"ordering": "-email"}), users, view)
        assert ordered.query.order_by == ("-email", "id")
