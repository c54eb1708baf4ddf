import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_generated_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_render_from_local_assets_only(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr.net" not in html
    assert "unpkg.com" not in html


def test_a_jwt_bearer_scheme_is_declared(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_every_operation_documents_its_errors_in_the_error_shape(schema):
    """Every 4xx/5xx body is an Error, or an Error with more fields (MFAEnrolmentRequired)."""
    components = schema["components"]["schemas"]
    error = components["Error"]
    assert set(error["properties"]) >= {"code", "message", "request_id"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "401" in responses, f"{method.upper()} {path}"
            for code, response in responses.items():
                if code.startswith(("4", "5")) and "content" in response:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    body = components[ref.rsplit("/", 1)[1]]
                    assert body["properties"].items() >= error["properties"].items(), f"{method} {path}"
                    assert set(body["required"]) >= set(error["required"]), f"{method} {path}"


def test_public_endpoints_are_marked_as_needing_no_token(schema):
    login = schema["paths"]["/api/v1/auth/login/"]["post"]
    assert {} in login["security"]
    # Its one 403 is the staff member who must turn two-factor sign-in on first, not a missing token.
    assert login["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MFAEnrolmentRequired"
    }
    users = schema["paths"]["/api/v1/users/"]["get"]
    assert users["security"] == [{"jwtAuth": []}]
    assert "403" in users["responses"]


ERROR_REF = {"$ref": "#/components/schemas/Error"}


def operation(schema: dict, method: str, path: str) -> dict:
    return schema["paths"][f"/api/v1/{path}"][method.lower()]


def test_the_error_code_is_an_enum_of_exactly_the_registered_codes(schema):
    from apps.core.exceptions import ERROR_CODES

    code = schema["components"]["schemas"]["Error"]["properties"]["code"]
    enum = schema["components"]["schemas"][code["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert sorted(enum) == sorted(ERROR_CODES)


def test_login_statistics_are_documented_as_one_object(schema):
    ok = operation(schema, "GET", "analytics/logins/")["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LoginStats"}


@pytest.mark.parametrize("path", ["users/", "roles/", "permissions/", "audit-logs/", "analytics/logins/"])
def test_operations_with_query_parameters_declare_400(schema, path):
    assert "400" in operation(schema, "GET", path)["responses"]


@pytest.mark.parametrize("path", ["users/", "roles/", "permissions/"])
def test_page_numbered_lists_declare_404_for_a_page_past_the_end(schema, path):
    assert "404" in operation(schema, "GET", path)["responses"]


def test_page_and_page_size_are_positive_integers_and_the_cap_is_documented(schema):
    parameters = {p["name"]: p for p in operation(schema, "GET", "users/")["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1}
    assert "at most 100" in parameters["page_size"]["description"]


def test_filters_document_that_an_empty_value_means_no_filter(schema):
    parameters = {p["name"]: p for p in operation(schema, "GET", "users/")["parameters"]}
    assert parameters["is_active"]["allowEmptyValue"] is True
    assert parameters["is_active"]["schema"] == {"type": "boolean"}
    assert "allowEmptyValue" not in parameters["page"]


def test_every_write_declares_400_even_without_a_body(schema):
    assert "400" in operation(schema, "DELETE", "users/{id}/")["responses"]  # deactivating yourself


def test_a_delete_that_takes_a_body_documents_it(schema):
    close_account = operation(schema, "DELETE", "users/me/")
    body = close_account["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PasswordConfirmRequest"
    }
    assert {"400", "413", "415"} <= set(close_account["responses"])


def test_a_delete_without_a_declared_body_documents_none(schema):
    assert "requestBody" not in operation(schema, "DELETE", "users/{id}/")
    assert "requestBody" not in operation(schema, "DELETE", "roles/{id}/")


def test_error_responses_a_view_declares_itself_get_the_error_shape(schema):
    already_verified = operation(schema, "POST", "auth/email/verify/resend/")["responses"]["409"]
    assert already_verified["description"] == "Already verified."
    assert already_verified["content"]["application/json"]["schema"] == ERROR_REF


@pytest.mark.django_db(databases="__all__")
def test_options_describes_every_routed_endpoint_without_failing(schema, superuser, api):
    from apps.logs.models import ApplicationLog

    client = api(superuser)
    for path in ["/api/v1/", *schema["paths"]]:
        url = path.replace("{id}", str(superuser.pk))
        response = client.options(url)
        assert response.status_code == 200, f"OPTIONS {url}: {response.status_code} {response.content[:200]}"
        assert set(response.json()) == {"name", "description", "renders", "parses"}
    assert not ApplicationLog.objects.exists()


@pytest.mark.django_db(databases="__all__")
def test_options_on_a_public_endpoint_needs_no_token(api):
    response = api().options("/api/v1/auth/login/")
    assert response.status_code == 200
    assert response.json()["parses"] == ["application/json"]
