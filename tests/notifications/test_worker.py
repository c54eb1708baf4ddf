"""A message queued by a request is delivered by a real Celery worker over the real broker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connections

from apps.notifications.models import Notification
from apps.notifications.services import notify
from config.celery import app

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL") or connections["default"].vendor != "postgresql",
        reason="needs CELERY_BROKER_URL and PostgreSQL: the worker must see this test's committed rows",
    ),
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def _url(alias: str) -> str:
    settings = connections[alias].settings_dict
    user = settings["USER"] or "postgres"
    return (
        f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def test_a_real_worker_delivers_a_queued_message(make_user):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"{queue}@%h",
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            # The worker works on this test's databases, and prints the email it sends.
            "DATABASE_URL": _url("default"),
            "ANALYTICS_DATABASE_URL": _url("analytics"),
            "LOGS_DATABASE_URL": _url("logs"),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    was_eager, routes = app.conf.task_always_eager, app.conf.task_routes
    app.conf.task_always_eager = False
    app.conf.task_routes = {"notifications.deliver": {"queue": queue}}
    try:
        user = make_user(email="worker-test@example.com")
        (notification,) = notify(user=user, key="welcome")  # autocommit: queued at once
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            notification.refresh_from_db()
            if notification.status == Notification.Status.SENT:
                break
            time.sleep(0.2)
        assert notification.status == Notification.Status.SENT, notification.last_error
        assert notification.attempts == 1
    finally:
        app.conf.task_always_eager, app.conf.task_routes = was_eager, routes
        worker.terminate()
        output, errors = worker.communicate(timeout=30)
    # Celery hands the worker's standard output to its logger, so the email shows in either stream.
    assert "To: worker-test@example.com" in output + errors
