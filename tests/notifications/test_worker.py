"""A message queued by a request is delivered by a real Celery worker over the real broker."""

import os
import time

import pytest
from django.db import connections

from apps.notifications.models import Notification
from apps.notifications.services import notify
from tests.celery_worker import celery_worker, routed_to

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
    # The worker works on this test's databases, and prints the email it sends.
    databases = {
        "DATABASE_URL": _url("default"),
        "ANALYTICS_DATABASE_URL": _url("analytics"),
        "LOGS_DATABASE_URL": _url("logs"),
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    with celery_worker(env=databases) as worker, routed_to(worker, "notifications.deliver"):
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
    assert "To: worker-test@example.com" in worker.output
