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
