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
