"""The schema, the docs and readiness details are for those running the service: clients from
INTERNAL_NETWORKS and staff signed in to the admin. Anyone else gets a 404, and readiness its
status without details."""

import pytest

OUTSIDE = "203.0.113.9"  # TEST-NET-3: outside every network below
INTERNAL_PAGES = ["/api/schema/", "/api/docs/", "/api/docs/?script=", "/api/redoc/"]


@pytest.fixture
def loopback_only(settings):
    settings.INTERNAL_NETWORKS = ["127.0.0.0/8", "::1/128"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", INTERNAL_PAGES)
def test_the_schema_and_docs_are_a_404_from_outside_the_internal_networks(client, loopback_only, path):
    response = client.get(path, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("path", INTERNAL_PAGES)
def test_the_schema_and_docs_are_served_inside_the_internal_networks(client, loopback_only, path):
    assert client.get(path, REMOTE_ADDR="127.0.0.1").status_code == 200


@pytest.mark.django_db
def test_a_signed_in_staff_member_sees_the_docs_from_anywhere(client, loopback_only, make_user):
    client.force_login(make_user(is_staff=True))
    assert client.get("/api/schema/", REMOTE_ADDR=OUTSIDE).status_code == 200


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_does_not(client, loopback_only, make_user):
    client.force_login(make_user())
    assert client.get("/api/schema/", REMOTE_ADDR=OUTSIDE).status_code == 404


@pytest.mark.django_db
def test_the_internal_networks_apply_to_the_client_address_behind_trusted_proxies(
    client, loopback_only, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy connects from loopback; the client behind it is outside.
    response = client.get("/api/schema/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert response.status_code == 404


@pytest.mark.django_db(databases="__all__")
def test_readiness_from_outside_says_only_its_status(client, loopback_only):
    response = client.get("/health/ready/", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_failing_readiness_from_outside_is_a_503_without_naming_the_dependency(
    client, loopback_only, database_down
):
    with database_down("logs"):
        response = client.get("/health/ready/", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}


@pytest.mark.django_db(databases="__all__")
def test_readiness_details_are_served_inside_the_internal_networks(client, loopback_only):
    body = client.get("/health/ready/", REMOTE_ADDR="127.0.0.1").json()
    assert "database:default" in body["checks"]


@pytest.mark.django_db
def test_with_every_network_internal_a_request_without_a_peer_address_sees_the_docs(rf, settings):
    from apps.core.internal import sees_internals

    request = rf.get("/api/schema/")
    del request.META["REMOTE_ADDR"]
    settings.INTERNAL_NETWORKS = ["0.0.0.0/0", "::/0"]
    assert sees_internals(request)
    settings.INTERNAL_NETWORKS = ["0.0.0.0/0"]
    assert not sees_internals(request)
