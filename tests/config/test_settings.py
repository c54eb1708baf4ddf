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
