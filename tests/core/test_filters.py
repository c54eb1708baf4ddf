"""The filter backends: the FilterSet runs when the query names one of its filters, else not at all;
search and ordering leave the queryset alone when the query asks for neither."""

from datetime import UTC, datetime, timedelta

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


# --- Datetime and integer filters: out of range is a 400, never the database's error -----------------
BOOKING_STAFF = ("bookings.view_booking", "bookings.view_all_bookings")


class TestDateTimeFilterField:
    """Every datetime filter hands the database the instant in UTC: PostgreSQL takes offsets up to
    ±15:59 only, and Python parses up to ±23:59."""

    @staticmethod
    def clean(text: str, **kwargs):
        from apps.core.filters import BoundedIsoDateTimeField

        return BoundedIsoDateTimeField(**kwargs).clean(text)

    @pytest.mark.parametrize(
        ("text", "utc"),
        [
            ("2027-01-01T00:00:00+16:00", datetime(2026, 12, 31, 8, 0, tzinfo=UTC)),
            ("2027-01-01T00:00:00-23:59", datetime(2027, 1, 1, 23, 59, tzinfo=UTC)),
            ("2027-01-01T10:00:00Z", datetime(2027, 1, 1, 10, 0, tzinfo=UTC)),
            ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, 0, tzinfo=UTC)),
        ],
    )
    def test_any_offset_python_parses_becomes_the_same_instant_in_utc(self, text, utc):
        value = self.clean(text)
        assert value == utc
        assert value.utcoffset() == timedelta(0)

    @pytest.mark.parametrize(
        "text",
        [
            "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
            "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
            "10000-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2027-01-01T00:00:00+24:00",
            "2027-01-01T00:00:00+99:00",
        ],
    )
    def test_a_time_outside_what_utc_and_the_database_hold_is_invalid(self, text):
        from django import forms

        with pytest.raises(forms.ValidationError):
            self.clean(text)

    def test_require_offset_refuses_a_time_without_one(self):
        from django import forms

        with pytest.raises(forms.ValidationError, match="offset"):
            self.clean("2027-01-01T00:00:00", require_offset=True)
        assert self.clean("2027-01-01T00:00:00") is not None  # in the current time zone


@pytest.mark.parametrize(
    ("path", "permission", "name"),
    [
        ("/api/v1/bookings/", BOOKING_STAFF, "start_after"),
        ("/api/v1/bookings/", BOOKING_STAFF, "start_before"),
        ("/api/v1/audit-logs/", ("logs.view_auditlog",), "created_after"),
        ("/api/v1/audit-logs/", ("logs.view_auditlog",), "created_before"),
    ],
)
class TestDateTimeFiltersOverTheApi:
    def test_an_offset_beyond_the_databases_is_answered(self, api, make_user, path, permission, name):
        response = api(make_user(*permission)).get(path, {name: "2027-01-01T00:00:00+16:00"})
        assert response.status_code == 200

    def test_a_year_out_of_range_is_a_400_naming_the_parameter(self, api, make_user, path, permission, name):
        response = api(make_user(*permission)).get(path, {name: "0001-01-01T00:00:00+16:00"})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == [name]


@pytest.mark.parametrize(
    ("path", "permission", "name"),
    [
        ("/api/v1/bookings/", BOOKING_STAFF, "provider"),
        ("/api/v1/bookings/", BOOKING_STAFF, "customer"),
        ("/api/v1/bookings/", BOOKING_STAFF, "service"),
        ("/api/v1/providers/", None, "service"),
        ("/api/v1/audit-logs/", ("logs.view_auditlog",), "actor"),
        ("/api/v1/analytics/logins/", ("analytics.view_loginevent",), "user"),
    ],
)
@pytest.mark.parametrize("value", [str(2**64), str(2**63), "0", "-1"])
def test_an_id_filter_outside_1_to_2_63_minus_1_is_a_400_naming_it(
    api, make_user, path, permission, name, value
):
    caller = make_user(*permission) if permission else make_user()
    response = api(caller).get(path, {name: value})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == [name]


def test_the_largest_id_is_a_valid_filter(api, make_user):
    response = api(make_user("logs.view_auditlog")).get("/api/v1/audit-logs/", {"actor": str(2**63 - 1)})
    assert response.status_code == 200


def _filtersets():
    from config.api_router import router

    found = {}
    for _prefix, viewset, _basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        if filterset_class is not None:
            found[filterset_class.__name__] = filterset_class
    return sorted(found.items())


@pytest.mark.parametrize(("name", "filterset_class"), _filtersets())
def test_every_filterset_bounds_its_datetime_and_integer_filters(name, filterset_class):
    """A new datetime or integer filter that skips the shared fields fails here, not in production."""
    from django import forms

    from apps.core.fields import MAX_ID
    from apps.core.filters import BoundedIntegerField, BoundedIsoDateTimeField

    for filter_name, filter_ in filterset_class.base_filters.items():
        field_class = filter_.field_class
        if issubclass(field_class, (forms.DateTimeField, forms.DateField)):
            assert issubclass(field_class, BoundedIsoDateTimeField), f"{name}.{filter_name}"
        elif issubclass(field_class, (forms.DecimalField, forms.FloatField)):  # IntegerField's subclasses
            assert filter_.field.max_value is not None, f"{name}.{filter_name}"
        elif issubclass(field_class, forms.IntegerField):
            assert issubclass(field_class, BoundedIntegerField), f"{name}.{filter_name}"
            assert filter_.field.max_value <= MAX_ID, f"{name}.{filter_name}"
