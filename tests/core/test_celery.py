import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.core.tasks import ping
from config.celery import app
from tests.celery_worker import celery_worker

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_tasks_run_in_process_when_no_worker_is_needed():
    assert ping.delay().get(timeout=1) == "pong"


def test_only_json_crosses_the_broker():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_the_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL") or not os.environ.get("CELERY_RESULT_BACKEND"),
    reason="needs CELERY_BROKER_URL and CELERY_RESULT_BACKEND pointing at a real broker",
)
def test_a_real_worker_round_trips_a_task():
    with celery_worker() as worker:
        assert ping.apply_async(queue=worker.queue).get(timeout=60) == "pong"


def test_a_queued_task_carries_the_request_id_into_its_log_lines():
    from types import SimpleNamespace

    from apps.core import celery_signals
    from apps.core.request_context import current_request_id, request_id_var

    token = request_id_var.set("req-queued")
    headers = {}
    try:
        celery_signals.send_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {"request_id": "req-queued"}

    task = SimpleNamespace(request=SimpleNamespace(request_id="req-queued"))
    celery_signals.bind_request_id(task_id="t1", task=task)
    assert current_request_id() == "req-queued"
    celery_signals.unbind_request_id(task_id="t1")
    assert current_request_id() is None


# --- Without a broker: worker and beat refuse to start ----------------------------------------------------


def _celery(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        # Empty, not absent: an empty variable also wins over a developer's .env.
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
        "ANALYTICS_DATABASE_URL": f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
        "LOGS_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
    }
    # Without the check these would run until the timeout, which then fails the test.
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_refuses_to_start_on_the_in_memory_broker(tmp_path):
    result = _celery("worker", "--pool=solo", "--loglevel=WARNING", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "CELERY_BROKER_URL is not set" in result.stderr
    assert "Set CELERY_BROKER_URL" in result.stderr


def test_beat_refuses_to_start_on_the_in_memory_broker(tmp_path):
    result = _celery(
        "beat", "--loglevel=WARNING", "--schedule", str(tmp_path / "schedule"), tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "CELERY_BROKER_URL is not set" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "handler", ["refuse_to_work_without_a_broker", "refuse_to_schedule_without_a_broker"]
)
def test_the_start_up_check_follows_the_broker_the_settings_name(handler, monkeypatch):
    """The settings read .env as well as the environment, so the check reads the settings."""
    from config import celery as celery_module

    check = getattr(celery_module, handler)
    # Celery lets the variable itself outrank the settings; here the settings alone decide.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    configured = app.conf.broker_url
    try:
        app.conf.broker_url = "memory://localhost/"
        with pytest.raises(SystemExit, match="CELERY_BROKER_URL"):
            check()
        app.conf.broker_url = "redis://127.0.0.1:6379/1"
        check()  # a real broker: no objection
    finally:
        app.conf.broker_url = configured
