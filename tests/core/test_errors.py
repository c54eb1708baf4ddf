"""Every error response has one JSON shape: code, message, request_id (+ field_errors)."""

import pytest

pytestmark = [pytest.mark.urls("tests.core.urls"), pytest.mark.django_db]


def assert_error_shape(body: dict, code: str) -> None:
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"]


def test_validation_errors_are_400_with_errors_keyed_by_field(api_client):
    response = api_client.post("/test/probe/", {"name": "far too long a name", "count": -1})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert set(body["field_errors"]) == {"name", "count"}
    assert all(isinstance(messages, list) for messages in body["field_errors"].values())


def test_django_validation_errors_raised_by_services_are_400(api_client):
    response = api_client.get("/test/probe/model_validation/")
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"start": ["Start must be in the future."]}


def test_malformed_json_is_a_400_parse_error(api_client):
    response = api_client.post("/test/probe/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


def test_wrong_media_type_is_415(api_client):
    response = api_client.post(
        "/test/probe/", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert_error_shape(response.json(), "unsupported_media_type")


def test_missing_credentials_are_401(api_client):
    response = api_client.get("/test/private/")
    assert response.status_code == 401
    assert_error_shape(response.json(), "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_garbage_bearer_token_is_401(api_client):
    response = api_client.get("/test/private/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert_error_shape(response.json(), "token_not_valid")


def test_unknown_api_routes_are_404_in_the_same_shape(api_client):
    response = api_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), "not_found")


def test_wrong_method_is_405(api_client):
    response = api_client.delete("/test/probe/conflict/")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_conflicts_are_409(api_client):
    response = api_client.get("/test/probe/conflict/")
    assert response.status_code == 409
    body = response.json()
    assert_error_shape(body, "conflict")
    assert body["message"] == "That slot is taken."


# --- Domain errors: what services raise (apps.core.errors), answered in the same shape -----------------
def test_a_domain_input_error_is_a_400_with_every_message_by_field(api_client):
    response = api_client.get("/test/probe/refuse/invalid_field/")
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["message"] == "Invalid input."
    assert body["field_errors"] == {"email": ["Taken.", "Too long."], "name": ["Blank."]}


def test_a_domain_input_error_about_the_whole_input_is_a_non_field_error(api_client):
    response = api_client.get("/test/probe/refuse/invalid_whole/")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Choose a later time."
    assert body["field_errors"] == {"non_field_errors": ["Choose a later time."]}


@pytest.mark.parametrize(
    ("kind", "status_code", "code", "message"),
    [
        ("forbidden", 403, "email_not_verified", "Verify your email first."),
        ("missing", 404, "not_found", "Not found."),
        ("conflict", 409, "conflict", "That slot is taken."),
        ("limited", 429, "throttled", "Too many texts. Expected available in 90 seconds."),
    ],
)
def test_each_domain_error_has_its_status_code_and_message(api_client, kind, status_code, code, message):
    response = api_client.get(f"/test/probe/refuse/{kind}/")
    assert response.status_code == status_code
    body = response.json()
    assert_error_shape(body, code)
    assert body["message"] == message
    assert "field_errors" not in body


def test_a_domain_rate_limit_says_when_to_retry(api_client):
    response = api_client.get("/test/probe/refuse/limited/")
    assert response["Retry-After"] == "90"


def test_a_domain_error_hands_over_its_extra_body(api_client):
    body = api_client.get("/test/probe/refuse/with_extra/").json()
    assert_error_shape(body, "mfa_enrolment_required")
    assert body["mfa_token"] == "t0k3n"


def test_a_domain_authentication_failure_is_a_401_naming_the_scheme(api_client):
    response = api_client.get("/test/private/refuse/")
    assert response.status_code == 401
    assert_error_shape(response.json(), "invalid_credentials")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_domain_authentication_failure_without_a_scheme_is_a_403_as_in_drf(api_client):
    response = api_client.get("/test/no-scheme/")
    assert response.status_code == 403
    assert_error_shape(response.json(), "authentication_failed")
    assert "WWW-Authenticate" not in response


def test_a_domain_error_lists_its_messages_for_admin_forms():
    from apps.core import errors

    assert errors.InvalidInput({"a": ["One."], "b": "Two."}).messages == ["One.", "Two."]
    assert errors.Conflict("Taken.").messages == ["Taken."]


def test_throttled_requests_are_429_with_retry_after(api_client):
    assert api_client.get("/test/probe/limited/").status_code == 200
    response = api_client.get("/test/probe/limited/")
    assert response.status_code == 429
    assert_error_shape(response.json(), "throttled")
    assert int(response["Retry-After"]) > 0


def test_unhandled_errors_are_500_without_internals(api_client):
    response = api_client.get("/test/probe/crash/")
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()


def test_oversized_bodies_are_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api_client.post("/test/probe/", {"name": "x" * 500, "count": 1})
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_error_request_id_matches_the_response_header(api_client):
    response = api_client.get("/test/private/", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    assert response.json()["request_id"] == "req-123"


def test_absurdly_nested_json_is_a_400_not_a_500(api_client):
    response = api_client.post("/test/probe/", data="[" * 50_000, content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


def test_an_unhandled_error_is_logged_once_with_its_traceback_and_request_id(api_client, caplog):
    api_client.get("/test/probe/crash/", HTTP_X_REQUEST_ID="req-500")
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert errors[0].request_id == "req-500"


# --- Field errors: one flat mapping, whatever the nesting of the input --------------------------------
@pytest.mark.django_db(databases="__all__")
def test_an_invalid_list_item_is_keyed_by_its_dotted_index(api, superuser):
    response = api(superuser).post(
        "/api/v1/roles/", {"name": "x", "permissions": ["logs.view_auditlog", False]}
    )
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"permissions.1": ["Not a valid string."]}


@pytest.mark.django_db(databases="__all__")
def test_a_blank_list_item_is_keyed_by_its_dotted_index(api, superuser, make_user):
    response = api(superuser).put(f"/api/v1/users/{make_user().pk}/roles/", {"roles": [""]})
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"roles.0": ["This field may not be blank."]}


def test_nested_errors_flatten_to_dotted_paths_with_lists_of_strings():
    from rest_framework import serializers

    from apps.core.exceptions import flatten_field_errors

    class Address(serializers.Serializer):
        city = serializers.CharField()

    class Person(serializers.Serializer):
        address = Address()
        previous = Address(many=True)
        tags = serializers.ListField(child=serializers.IntegerField())

    person = Person(data={"address": {"city": ""}, "previous": [{"city": "Oslo"}, {}], "tags": [1, "x"]})
    assert not person.is_valid()
    assert flatten_field_errors(person.errors) == {
        "address.city": ["This field may not be blank."],
        "previous.1.city": ["This field is required."],
        "tags.1": ["A valid integer is required."],
    }


def test_errors_about_the_whole_input_are_non_field_errors():
    from apps.core.exceptions import flatten_field_errors

    assert flatten_field_errors(["Dates overlap."]) == {"non_field_errors": ["Dates overlap."]}
    assert flatten_field_errors({"non_field_errors": ["Dates overlap."]}) == {
        "non_field_errors": ["Dates overlap."]
    }
    assert flatten_field_errors([{}, {"name": ["Required."]}]) == {"1.name": ["Required."]}


# --- One registry of error codes ----------------------------------------------------------------------
def readme_error_table() -> dict[str, int]:
    """The README's "### Errors" table as {code: status}."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Errors", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \|", section, flags=re.MULTILINE)
    return {code: int(status) for status, code in rows}


def test_the_readme_lists_exactly_the_registered_error_codes_with_their_statuses():
    from apps.core.exceptions import ERROR_CODES

    assert readme_error_table() == {code: status for code, (status, _) in ERROR_CODES.items()}


def test_every_registered_code_has_an_error_status_and_a_meaning():
    from apps.core.exceptions import ERROR_CODES

    for code, (status, meaning) in ERROR_CODES.items():
        assert 400 <= status < 600, code
        assert meaning.strip(), code
