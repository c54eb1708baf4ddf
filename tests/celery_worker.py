"""A real Celery worker for the tests that need one: its own process, on the real broker."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from config.celery import app

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Worker:
    queue: str
    output: str = ""  # what the worker printed, both streams, once it has stopped


@contextmanager
def celery_worker(*, env: dict[str, str] | None = None) -> Iterator[Worker]:
    """Run a worker on a private queue (it takes nobody else's tasks, nor they its) while this
    process sends tasks for real instead of running them in-process; send yours to `worker.queue`
    (`apply_async(queue=...)` or `app.conf.task_routes`)."""
    worker = Worker(queue=f"test-{uuid.uuid4().hex[:12]}")
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
        *("-Q", worker.queue, "-n", f"{worker.queue}@%h", "--loglevel=WARNING"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    # The worker's cache keys under this process's prefix (config/settings/test.py), as its own are.
    prefix = {"CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"]} if settings.REDIS_URL else {}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", **prefix, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        app.conf.task_always_eager = was_eager
        process.terminate()
        worker.output, _ = process.communicate(timeout=30)


@contextmanager
def routed_to(worker: Worker, *task_names: str) -> Iterator[None]:
    """Send the tasks `task_names` to `worker`'s queue while inside.

    Celery makes its router once per process, from the routes of that moment: a second worker test
    in one run would otherwise send its tasks to the first one's queue, where nobody listens.
    """
    saved = app.conf.task_routes
    app.conf.task_routes = {name: {"queue": worker.queue} for name in task_names}
    _rebuild_router()
    try:
        yield
    finally:
        app.conf.task_routes = saved
        _rebuild_router()


def _rebuild_router() -> None:
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # a cached property: made again on its next use
