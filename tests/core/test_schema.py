import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema) -> dict:
    return openapi_schema


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
    assert login["security"] == []  # no authenticator runs: a token is never read
    # Its one 403 is the staff member who must turn two-factor sign-in on first, not a missing token.
    assert login["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MFAEnrolmentRequired"
    }
    users = schema["paths"]["/api/v1/users/"]["get"]
    assert users["security"] == [{"jwtAuth": []}]
    assert "403" in users["responses"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "auth/register/"),
        ("POST", "auth/token/refresh/"),
        ("POST", "auth/password/reset/"),
        ("GET", "providers/{id}/availability/"),
    ],
)
def test_operations_that_read_no_token_declare_an_empty_security(schema, method, path):
    assert operation(schema, method, path)["security"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "products/"), ("GET", "products/{id}/"), ("GET", "categories/"), ("GET", "providers/")],
)
def test_public_reads_take_a_token_but_do_not_need_one(schema, method, path):
    # `{}` first: a client generator that takes the first requirement must not demand a token.
    assert operation(schema, method, path)["security"] == [{}, {"jwtAuth": []}]


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
        url = path.replace("{id}", SESSION_ID if path in UUID_ID_PATHS else str(superuser.pk))
        url = url.replace("{role_name}", "customer")
        response = client.options(url)
        assert response.status_code == 200, f"OPTIONS {url}: {response.status_code} {response.content[:200]}"
        assert set(response.json()) == {"name", "description", "renders", "parses"}
    assert not ApplicationLog.objects.exists()


@pytest.mark.django_db(databases="__all__")
def test_options_on_a_public_endpoint_needs_no_token(api):
    response = api().options("/api/v1/auth/login/")
    assert response.status_code == 200
    assert response.json()["parses"] == ["application/json"]


# Sessions are named by the UUID their tokens carry in `sid`; every other path id is a bigint key.
UUID_ID_PATHS = {"/api/v1/auth/sessions/{id}/"}
# Path parameters that are names, not ids: a user's role is named as the roles API names it.
NAME_PARAMETERS = {("/api/v1/users/{id}/roles/{role_name}/", "role_name")}
SESSION_ID = "0b0e6a4c-3f0c-4b8e-9d7e-2a1c5f3e4d6b"


def test_every_path_id_is_a_positive_integer(schema):
    ids = [
        (path, parameter["schema"])
        for path, operations in schema["paths"].items()
        for method, op in operations.items()
        for parameter in op.get("parameters", ())
        if parameter["in"] == "path" and (path, parameter["name"]) not in NAME_PARAMETERS
    ]
    assert len({path for path, _ in ids}) >= 18  # every detail route of every app
    for path, id_schema in ids:
        if path in UUID_ID_PATHS:
            assert id_schema == {"type": "string", "format": "uuid"}, path
            continue
        assert id_schema["type"] == "integer", path
        assert id_schema["minimum"] == 1, path
        assert id_schema["maximum"] <= 2**63 - 1, path


def test_an_id_filter_declares_the_bigint_range_not_a_float_cap(schema):
    # django-filter's own 1e50 cap is a float that lets 10**50 + 1 through: not a documented bound.
    parameters = {p["name"]: p for p in operation(schema, "GET", "audit-logs/")["parameters"]}
    assert parameters["actor"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_id_filters_are_positive_integers(schema):
    parameters = {p["name"]: p for p in operation(schema, "GET", "bookings/")["parameters"]}
    for name in ("provider", "customer", "service"):
        assert parameters[name]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    providers = {p["name"]: p for p in operation(schema, "GET", "providers/")["parameters"]}
    assert providers["service"]["schema"]["minimum"] == 1


def test_price_filters_are_decimal_strings_with_their_limits(schema):
    parameters = {p["name"]: p for p in operation(schema, "GET", "products/")["parameters"]}
    for name in ("min_price", "max_price"):
        assert parameters[name]["schema"] == {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        }
        assert "from 0 to 99999999.99, with at most 2 decimal places" in parameters[name]["description"]


def test_ordering_lists_the_fields_it_takes(schema):
    parameters = {p["name"]: p for p in operation(schema, "GET", "products/")["parameters"]}
    ordering = parameters["ordering"]
    assert ordering["schema"]["items"]["enum"] == [
        "price", "-price", "name", "-name", "created_at", "-created_at"
    ]  # fmt: skip
    assert (ordering["style"], ordering["explode"]) == ("form", False)  # `?ordering=price,-name`


def test_the_availability_duration_states_its_range_and_step(schema):
    parameters = {
        p["name"]: p for p in operation(schema, "GET", "providers/{id}/availability/")["parameters"]
    }
    assert parameters["duration"]["schema"] == {
        "type": "integer",
        "minimum": 15,
        "maximum": 480,
        "multipleOf": 15,
        "default": 60,
    }


def test_codes_state_their_lengths(schema):
    components = schema["components"]["schemas"]
    for name in (
        "TOTPConfirmRequest",
        "SMSEnableRequest",
        "PhoneVerifyRequest",
        "PasswordResetByCodeRequest",
    ):
        code = components[name]["properties"]["code"]
        assert (code["minLength"], code["maxLength"], code["pattern"]) == (6, 6, "^[0-9]{6}$"), name
    codes = components["RecoveryCodes"]["properties"]["recovery_codes"]
    assert (codes["minItems"], codes["maxItems"]) == (10, 10)
    assert codes["items"]["pattern"] == "^[a-z2-9]{5}-[a-z2-9]{5}$"


@pytest.mark.parametrize("path", ["auth/password/reset/", "auth/password/reset/confirm/"])
def test_a_body_of_alternatives_is_required(schema, path):
    assert operation(schema, "POST", path)["requestBody"]["required"] is True


def test_no_docstring_becomes_a_description(schema):
    """Serializer and view docstrings are written for developers; a component or operation
    description is always one written for clients."""
    from apps.accounts.serializers import UniqueUsernameMixin
    from apps.core.fields import DatetimeTextMixin

    texts = [component.get("description", "") for component in schema["components"]["schemas"].values()]
    texts += [op.get("description", "") for ops in schema["paths"].values() for op in ops.values()]
    for developer_text in (DatetimeTextMixin.__doc__, UniqueUsernameMixin.__doc__):
        first_line = developer_text.strip().splitlines()[0]
        assert not any(first_line in text for text in texts)
    assert schema["components"]["schemas"]["Booking"]["description"].startswith("A booking")


def test_every_operation_and_tag_is_described_for_clients(schema):
    tags = {tag["name"]: tag["description"] for tag in schema["tags"]}
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            assert op.get("description"), f"{method.upper()} {path}"
            assert set(op["tags"]) <= set(tags), f"{method.upper()} {path}"
    assert all(tags.values())
    description = schema["info"]["description"].lower()
    for area in (
        "accounts and authentication",
        "two-factor",
        "users",
        "roles",
        "products and categories",
        "bookings and providers",
        "notifications",
        "analytics",
        "audit logs",
    ):
        assert area in description


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "auth/register/"), ("POST", "auth/login/"), ("POST", "products/"), ("POST", "bookings/")],
)
def test_the_main_requests_have_examples(schema, method, path):
    body = operation(schema, method, path)["requestBody"]["content"]["application/json"]
    assert body["examples"]


def test_component_names_read_naturally(schema):
    names = set(schema["components"]["schemas"])
    assert not [name for name in names if "RequestRequest" in name or "Write" in name]
    assert not names & {"NullEnum", "BlankEnum", "CodeEnum", "StatusEnum", "CategoryEnum"}
    assert {"ErrorCodeEnum", "BookingStatusEnum", "PasswordResetRequest", "TokenRefreshRequest"} <= names


def strictly_valid(schema: dict, component: str, body) -> None:
    """`body` validates against the component under a strict OpenAPI 3.0 validator, formats too."""
    from openapi_schema_validator import OAS30StrictValidator, oas30_strict_format_checker

    document = {"$ref": f"#/components/schemas/{component}", "components": schema["components"]}
    OAS30StrictValidator(document, format_checker=oas30_strict_format_checker).validate(body)


def test_a_booking_without_a_service_validates_strictly(schema, api):
    from tests.bookings.factories import days_ahead, local, new_booking, new_customer, new_provider
    from tests.conftest import grant

    customer = grant(new_customer(), "bookings.view_booking")
    booking = new_booking(customer=customer, provider=new_provider(), start=local(days_ahead(), "10:00"))
    response = api(customer).get(f"/api/v1/bookings/{booking.pk}/")
    assert response.status_code == 200
    assert response.json()["service"] is None
    strictly_valid(schema, "Booking", response.json())


def test_working_hours_as_the_server_sends_them_validate_strictly(schema, api):
    from tests.bookings.factories import new_provider
    from tests.conftest import grant

    provider = grant(new_provider(), "bookings.view_workinghours")
    response = api(provider).get("/api/v1/providers/me/working-hours/")
    assert response.status_code == 200
    assert response.json()["intervals"][0]["start"] == "09:00"
    strictly_valid(schema, "WorkingHours", response.json())


def test_a_two_factor_status_with_nulls_validates_strictly(schema, api, user):
    response = api(user).get("/api/v1/auth/2fa/")
    assert response.status_code == 200
    assert response.json()["last_used_method"] is None
    strictly_valid(schema, "TwoFactorStatus", response.json())
