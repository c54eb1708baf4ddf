"""HTTP-level rules every response follows, whatever the view: trailing slashes under /api/,
no body on HEAD, and no caching of anything that carries credentials or personal data."""

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.handlers.base import BaseHandler
from django.test import RequestFactory

from tests.conftest import DEFAULT_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    """Run the test as production does and as the development server does (DEBUG=True)."""
    settings.DEBUG = request.param
    return request.param


def serve(request):
    """The response the configured middleware stack hands the WSGI server.

    The test client drops a HEAD response's body itself, the way runserver does; gunicorn does
    not, so the body has to be gone before the response leaves Django.
    """
    handler = BaseHandler()
    handler.load_middleware()
    return handler.get_response(request)


def login(client, email):
    return client.post("/api/v1/auth/login/", {"email": email, "password": DEFAULT_PASSWORD})


# --- Trailing slash under /api/ --------------------------------------------------------------------------


@pytest.mark.django_db(databases="__all__")
def test_a_post_without_the_trailing_slash_reaches_the_endpoint(api, make_user, debug):
    make_user(email="ada@example.com")
    response = api().post("/api/v1/auth/login", {"email": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    assert {"access", "refresh"} <= set(response.json())


@pytest.mark.django_db(databases="__all__")
def test_a_patch_without_the_trailing_slash_changes_the_resource(api, make_user, debug):
    user = make_user()
    response = api(user).patch("/api/v1/users/me", {"full_name": "Ada King"})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.full_name == "Ada King"


@pytest.mark.django_db(databases="__all__")
def test_a_get_without_the_trailing_slash_is_answered_without_a_redirect(api, make_user, debug):
    response = api(make_user()).get("/api/v1/users/me")
    assert response.status_code == 200
    assert "Location" not in response


@pytest.mark.django_db(databases="__all__")
def test_links_in_a_response_to_a_slashless_url_use_the_slashed_path(api, make_user):
    reader = make_user("accounts.view_user")
    make_user()
    response = api(reader).get("/api/v1/users?page_size=1")
    assert response.status_code == 200
    assert "/api/v1/users/?" in response.json()["next"]


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v1/no-such-thing", "/api/", "/api/v2/users/"]
)
def test_an_unknown_api_url_is_the_json_404(client, debug, path):
    response = client.post(path, {"a": 1}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "not_found"
    assert body["request_id"] == response["X-Request-ID"]


def test_urls_outside_the_api_keep_djangos_trailing_slash_redirect(client):
    response = client.get("/health")
    assert response.status_code == 301
    assert response["Location"] == "/health/"


# --- HEAD ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(databases="__all__")
def test_a_head_response_has_no_body_and_the_length_of_the_get(make_user):
    from rest_framework_simplejwt.tokens import AccessToken

    auth = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(make_user())}"}
    get = serve(RequestFactory().get("/api/v1/users/me/", **auth))
    head = serve(RequestFactory().head("/api/v1/users/me/", **auth))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert int(head["Content-Length"]) == len(get.content) > 0


@pytest.mark.django_db(databases="__all__")
def test_an_anonymous_head_on_a_protected_endpoint_is_a_401_without_a_body():
    response = serve(RequestFactory().head("/api/v1/users/"))
    assert response.status_code == 401
    assert response.content == b""


def test_a_head_on_an_unknown_api_url_is_a_404_without_a_body():
    response = serve(RequestFactory().head("/api/v1/no-such-thing/"))
    assert response.status_code == 404
    assert response.content == b""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_stores_no_application_log_for_anonymous_head_requests(tmp_path):
    """End to end: a real gunicorn on a loopback port, with its own throwaway SQLite databases.

    Before HEAD answers lost their body, gunicorn logged "WSGI app sent body bytes on a no-body
    response" for each, and the root logger stored every one of them as an ApplicationLog row.
    """
    pytest.importorskip("gunicorn")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
        "ANALYTICS_DATABASE_URL": f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
        "LOGS_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        # Empty rather than absent, so that a developer's .env cannot point this server elsewhere.
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--database=logs", "--verbosity=0"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--error-logfile",
            "-",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        statuses = [_head(port, path) for path in ("/api/v1/users/", "/api/v1/no-such-thing/", "/health/")]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    assert statuses == [(401, b""), (404, b""), (200, b"")], output
    assert "no-body response" not in output
    with sqlite3.connect(tmp_path / "logs.sqlite3") as logs:
        rows = logs.execute("SELECT level, logger, message FROM logs_applicationlog").fetchall()
    assert rows == []


def _head(port: int, path: str) -> tuple[int, bytes]:
    deadline = time.monotonic() + 60
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("HEAD", path)
            response = connection.getresponse()
            return response.status, response.read()
        except (ConnectionRefusedError, http.client.RemoteDisconnected):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            connection.close()


# --- Cache-Control: no-store -----------------------------------------------------------------------------


def assert_never_cached(response):
    directives = {directive.strip() for directive in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")


@pytest.mark.django_db(databases="__all__")
def test_login_and_refresh_responses_carrying_tokens_are_never_cached(api, make_user):
    make_user(email="ada@example.com")
    logged_in = login(api(), "ada@example.com")
    assert logged_in.status_code == 200
    assert_never_cached(logged_in)

    refreshed = api().post("/api/v1/auth/token/refresh/", {"refresh": logged_in.json()["refresh"]})
    assert refreshed.status_code == 200
    assert_never_cached(refreshed)


@pytest.mark.django_db(databases="__all__")
def test_a_signed_in_users_profile_is_never_cached(api, make_user):
    response = api(make_user()).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert_never_cached(response)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("path", "status"), [("/api/v1/users/me/", 401), ("/api/v1/no-such-thing/", 404), ("/api/v1/", 200)]
)
def test_every_api_response_is_never_cached_errors_included(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_never_cached(response)


def test_a_response_outside_the_api_to_a_request_with_credentials_is_never_cached(client):
    response = client.get("/health/", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 200
    assert_never_cached(response)


@pytest.mark.django_db(databases="__all__")
def test_pages_served_to_a_session_are_never_cached(client, superuser):
    client.force_login(superuser)
    response = client.get("/health/")
    assert response.status_code == 200
    assert_never_cached(response)


def test_public_responses_outside_the_api_are_left_to_their_own_caching_rules(client):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- Content-Security-Policy ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_html_pages_carry_the_content_security_policy(client, settings, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_html_pages_load_scripts_and_styles_only_from_this_origin_and_run_no_inline_script(client, path):
    from html.parser import HTMLParser

    class Resources(HTMLParser):
        def __init__(self):
            super().__init__()
            self.urls, self.inline_scripts, self.in_script = [], [], False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            url = attrs.get("src") or (attrs.get("href") if tag == "link" else None)
            if url:
                self.urls.append(url)
            self.in_script = (
                tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json"
            )

        def handle_endtag(self, tag):
            self.in_script = False

        def handle_data(self, data):
            if self.in_script and data.strip():
                self.inline_scripts.append(data.strip()[:60])

    parser = Resources()
    parser.feed(client.get(path).content.decode())
    assert parser.urls, "the parser found nothing; it is out of date"
    assert [url for url in parser.urls if not url.startswith("/") or url.startswith("//")] == []
    assert parser.inline_scripts == []


@pytest.mark.django_db
def test_swagger_uis_start_up_script_is_served_from_this_origin(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_json_answers_carry_no_content_security_policy(client):
    assert "Content-Security-Policy" not in client.get("/health/")
