import pytest


def test_liveness_answers_without_touching_anything(client):
    # No django_db mark: any database access in this test would raise.
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(databases="__all__")
def test_readiness_lists_every_database_and_the_cache(client, settings):
    response = client.get("/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database:default", "database:analytics", "database:logs", "cache"} <= set(body["checks"])
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0
    assert ("broker" in body["checks"]) == settings.HEALTH_CHECK_BROKER


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_readiness_is_503_and_names_the_database_that_is_down(client, database_down):
    with database_down("logs"):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failing"] == ["database:logs"]
    assert body["checks"]["database:logs"]["error"] == "OperationalError"
    assert body["checks"]["database:default"]["status"] == "ok"


@pytest.mark.django_db(databases="__all__")
def test_readiness_checks_the_broker_when_one_is_configured(client, settings):
    settings.HEALTH_CHECK_BROKER = True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_probes_accept_only_safe_methods(client):
    assert client.post("/health/").status_code == 405
