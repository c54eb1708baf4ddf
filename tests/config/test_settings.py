"""Production settings: refuse to start half-configured, pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "q3J9v2LxN8pT4rY7wZ1mK6sD0fH5gB2cV8nE4aU9iO3lR7tP1yW6xQ0zM5jS8kG2",
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://app@db.internal:5432/backend",
    "ANALYTICS_DATABASE_URL": "postgres://app@db.internal:5432/backend_analytics",
    "LOGS_DATABASE_URL": "postgres://app@db.internal:5432/backend_logs",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/1",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "LOGS_DATABASE_URL"])
def test_production_refuses_to_start_without_required_settings(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_sqlite():
    result = manage(
        "check", env={**PRODUCTION_ENV, "ANALYTICS_DATABASE_URL": "sqlite:////tmp/analytics.sqlite3"}
    )
    assert result.returncode != 0
    assert "'analytics' database must be PostgreSQL" in result.stderr


def test_every_environment_variable_the_settings_read_is_documented():
    import re

    read = set()
    for settings_file in (REPO_ROOT / "config" / "settings").glob("*.py"):
        read |= set(re.findall(r"env(?:\.\w+)?\(\s*[\"']([A-Z_]+)[\"']", settings_file.read_text()))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (REPO_ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read, "the pattern found no variables; it is out of date"
    assert read - documented == set()


def test_production_serves_the_admins_static_files_through_whitenoise(tmp_path):
    """What the image does: collectstatic at build time, then whitenoise serves from STATIC_ROOT."""
    env = {**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)}
    collected = manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "staticfiles.json").is_file()

    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/static/admin/css/base.css', HTTP_HOST='api.example.com', secure=True); "
        "print(r.status_code, r.headers.get('Content-Type'))"
    )
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    served = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.stdout.split()[:2] == ["200", "text/css;"], served.stderr


# --- Development -----------------------------------------------------------------------------------------


def settings_value(module: str, expression: str, env: dict[str, str] | None = None):
    """`expression` evaluated over the settings module `module`, imported fresh in a subprocess
    with no THROTTLE_* or EMAIL_* variables but those in `env`."""
    import json

    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and not key.startswith(("THROTTLE_", "EMAIL_"))
    }
    probe = f"import json, {module} as s; print(json.dumps({expression}))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


THROTTLE_VARIABLES = {
    "anon": "THROTTLE_ANON_RATE",
    "user": "THROTTLE_USER_RATE",
    "login": "THROTTLE_LOGIN_RATE",
    "login_failures": "THROTTLE_LOGIN_FAILURES_RATE",
    "register": "THROTTLE_REGISTER_RATE",
    "password_reset": "THROTTLE_PASSWORD_RESET_RATE",
    "email_verification_resend": "THROTTLE_EMAIL_VERIFICATION_RESEND_RATE",
    "password_check": "THROTTLE_PASSWORD_CHECK_RATE",
}
PRODUCTION_RATES = {
    "anon": "120/minute",
    "user": "1200/minute",
    "login": "30/minute",
    "login_failures": "5/minute",
    "register": "10/hour",
    "password_reset": "5/hour",
    "email_verification_resend": "3/hour",
    "password_check": "10/hour",
}


def _per_minute(rate: str) -> float:
    count, period = rate.split("/")
    return int(count) / {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}[period[0]]


def test_development_rate_limits_are_generous_enough_to_try_the_api_by_hand():
    rates = settings_value("config.settings.dev", "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']")
    assert _per_minute(rates["login"]) >= 100
    assert _per_minute(rates["login_failures"]) >= 50
    for scope, production in PRODUCTION_RATES.items():
        assert _per_minute(rates[scope]) >= 3 * _per_minute(production), scope


def test_development_rate_limits_follow_the_same_variables_as_production():
    env = dict.fromkeys(THROTTLE_VARIABLES.values(), "7/minute")
    rates = settings_value("config.settings.dev", "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']", env)
    assert {scope: rates[scope] for scope in THROTTLE_VARIABLES} == dict.fromkeys(
        THROTTLE_VARIABLES, "7/minute"
    )


def test_production_and_test_rate_limits_are_unchanged():
    production = settings_value(
        "config.settings.prod",
        "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']",
        PRODUCTION_ENV,
    )
    test = settings_value("config.settings.test", "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']")
    for scope, rate in PRODUCTION_RATES.items():
        assert production[scope] == test[scope] == rate, scope


def test_the_smtp_backend_reads_its_server_from_the_environment():
    env = {"EMAIL_HOST": "mailpit", "EMAIL_PORT": "1025", "EMAIL_USE_TLS": "true"}
    value = settings_value(
        "config.settings.prod", "[s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS]", {**PRODUCTION_ENV, **env}
    )
    assert value == ["mailpit", 1025, True]


def test_each_log_line_is_printed_once_in_development(tmp_path):
    probe = (
        "import logging, django; django.setup(); from django.test import Client; "
        "logging.getLogger('django.request').warning('probe-django'); "
        "logging.getLogger('django.server').warning('probe-server'); "
        "logging.getLogger('apps.probe').warning('probe-apps'); "
        "Client().get('/api/v1/no-such-thing/', HTTP_HOST='localhost')"
    )
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
            "ANALYTICS_DATABASE_URL": f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
            "LOGS_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    for message in ("probe-django", "probe-server", "probe-apps", "Not Found: /api/v1/no-such-thing/"):
        assert output.count(message) == 1, output


@pytest.mark.django_db(databases="__all__")
def test_the_development_servers_access_log_is_never_stored():
    import logging

    from apps.logs.models import ApplicationLog

    # runserver logs every 4xx as a WARNING of its own, without the request the filter looks at.
    logging.getLogger("django.server").warning(
        '"HEAD /api/v1/users/ HTTP/1.1" 401 0', extra={"status_code": 401}
    )
    assert not ApplicationLog.objects.exists()


def test_production_shows_the_schema_docs_and_readiness_details_to_loopback_only_by_default():
    networks = settings_value("config.settings.prod", "s.INTERNAL_NETWORKS", PRODUCTION_ENV)
    assert networks == ["127.0.0.0/8", "::1/128"]
    env = {**PRODUCTION_ENV, "INTERNAL_NETWORKS": "10.0.0.0/8"}
    assert settings_value("config.settings.prod", "s.INTERNAL_NETWORKS", env) == ["10.0.0.0/8"]


def test_a_mistyped_internal_network_stops_start_up():
    result = manage("check", env={**PRODUCTION_ENV, "INTERNAL_NETWORKS": "10.0.0.0/33"})
    assert result.returncode != 0
    assert "10.0.0.0/33" in result.stderr


def test_development_allows_cors_from_the_front_end_the_emails_link_to():
    assert settings_value("config.settings.dev", "s.CORS_ALLOWED_ORIGINS") == ["http://localhost:3000"]
    env = {"FRONTEND_URL": "https://app.example.test/shop/"}
    assert settings_value("config.settings.dev", "s.CORS_ALLOWED_ORIGINS", env) == [
        "https://app.example.test"
    ]
    env = {"CORS_ALLOWED_ORIGINS": "http://localhost:5173"}
    assert settings_value("config.settings.dev", "s.CORS_ALLOWED_ORIGINS", env) == ["http://localhost:5173"]


def test_production_allows_no_cors_origin_unless_told():
    assert settings_value("config.settings.prod", "s.CORS_ALLOWED_ORIGINS", PRODUCTION_ENV) == []
