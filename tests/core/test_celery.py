import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from apps.core.tasks import ping
from config.celery import app

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
    # A private queue keeps this worker from taking anyone else's tasks, and theirs ours.
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
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=60) == "pong"
    finally:
        app.conf.task_always_eager = was_eager
        worker.terminate()
        worker.wait(timeout=30)


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
