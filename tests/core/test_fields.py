"""Serializer fields: text fields take JSON strings only (a number is a 400 naming the field, never
quietly "0"), and a read serializer's `datetime_text` answers exactly what DRF's DateTimeField
answers."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.core.fields import datetime_formatter

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_number_for_a_text_field_is_a_field_error(api, make_user):
    user = make_user(username="ada")
    response = api(user).patch("/api/v1/users/me/", {"username": 0, "full_name": 12})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"username", "full_name"}
    user.refresh_from_db()
    assert user.username == "ada"


def test_text_past_its_max_length_as_sent_is_refused_even_when_trimming_would_shorten_it(api, superuser):
    # "\x1d" counts as whitespace to str.strip(): trimmed, the name would fit its 150 characters.
    padded = "\x1d" + "*" * 150
    response = api(superuser).post("/api/v1/roles/", {"name": padded}, format="json")
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"name"}
    assert api(superuser).post("/api/v1/roles/", {"name": "*" * 150}, format="json").status_code == 201


def test_a_number_in_a_list_of_names_is_a_field_error_of_that_item(api, superuser):
    response = api(superuser).post("/api/v1/roles/", {"name": "x", "description": 0, "permissions": [1]})
    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"description", "permissions.0"}


def test_an_email_must_be_a_string_too(api):
    response = api().post("/api/v1/auth/login/", {"email": 5, "password": "x"})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["email"]


def test_a_slug_must_be_a_string_too(api, superuser):
    response = api(superuser).post("/api/v1/categories/", {"name": "Books", "slug": 0})
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["slug"]


# --- datetime_text: DRF's DateTimeField output, cheaper ----------------------------------------------
DATETIMES = [
    datetime(2026, 12, 2, 5, 53, 56, 123456, tzinfo=UTC),
    datetime(2026, 12, 2, 5, 53, 56, tzinfo=UTC),  # no microseconds: none printed
    datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/London")),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 12, 2, 5, 53, 56),  # naive: DRF's own path
]


@pytest.mark.parametrize("value", DATETIMES, ids=str)
def test_datetime_text_answers_what_drf_answers(value):
    assert datetime_formatter()(value) == serializers.DateTimeField().to_representation(value)


@pytest.mark.parametrize("value", DATETIMES[:3], ids=str)
def test_datetime_text_answers_in_the_current_time_zone_like_drf(value):
    with timezone.override(ZoneInfo("America/New_York")):
        expected = serializers.DateTimeField().to_representation(value)
        assert datetime_formatter()(value) == expected
    assert expected.endswith(("-05:00", "-04:00"))


def test_datetime_text_of_nothing_is_null():
    assert datetime_formatter()(None) is None


def test_datetime_text_follows_a_configured_format(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d %H:%M"}
    assert datetime_formatter()(DATETIMES[0]) == "2026-12-02 05:53"


def test_a_list_is_answered_in_the_time_zone_active_for_its_request(api, superuser):
    with timezone.override(ZoneInfo("America/New_York")):
        response = api(superuser).get("/api/v1/users/")
    assert response.status_code == 200
    joined = [row["date_joined"] for row in response.json()["results"]]
    assert joined and all(text.endswith(("-05:00", "-04:00")) for text in joined)
