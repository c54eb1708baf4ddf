"""The beat schedule, run inside the development server when there is no broker.

Real beat (`make beat`) sends each entry of CELERY_BEAT_SCHEDULE to a broker at its time for a worker to
run. With no CELERY_BROKER_URL the broker is an in-memory one, beat refuses to start (config/celery.py),
and the periodic jobs (booking reminders, the sweep of stuck messages, the pruning) would never run
under `make run`. So the development server runs the schedule itself: one daemon thread reads the same
schedule, asks Celery's own schedule objects when each entry is due (`is_due`, timedelta and crontab
alike), and runs the task in-process, as every task runs without a broker. A failing task is logged and
the thread goes on; the thread dies with the process.

It starts only in the process that serves: runserver's, and under the autoreloader only its child
(RUN_MAIN), as the parent only watches files. It needs EMBEDDED_BEAT (on in development settings only)
and the in-memory broker: never under gunicorn, a worker, beat, the tests or another management
command; with a real broker, `make worker` and `make beat` run the schedule. Times count from the
server's start, as for a beat with a new schedule file: an autoreload starts the count again.
"""

import copy
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import Celery
from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from config.celery import app as celery_app
from config.celery import uses_in_memory_broker

logger = logging.getLogger(__name__)

# However far off the next entry is, look again this often: a laptop's sleep stops the monotonic
# clock a wait runs on, not the wall clock the schedule is in.
MAX_WAIT_SECONDS = 60.0
MIN_WAIT_SECONDS = 1.0


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple
    kwargs: dict
    last_run_at: datetime


class EmbeddedBeat:
    """Runs each entry of a beat schedule when its schedule says it is due; `tick` does one round."""

    def __init__(
        self,
        *,
        app: Celery,
        beat_schedule: Mapping[str, Mapping],
        now: Callable[[], datetime] | None = None,
    ):
        self.app = app
        self.now = now or app.now
        started_at = self.now()
        self.entries = [
            Entry(
                name=name,
                task=entry["task"],
                schedule=_schedule(entry["schedule"], entry.get("relative", False), app, self.now),
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
                last_run_at=started_at,
            )
            for name, entry in beat_schedule.items()
        ]

    def tick(self) -> float:
        """Run the entries that are due; return the seconds until one may be due again."""
        wait = MAX_WAIT_SECONDS
        for entry in self.entries:
            due, next_check = entry.schedule.is_due(entry.last_run_at)
            if due:
                # Before running, as beat does: a slow task does not push its next time back.
                entry.last_run_at = self.now()
                self._run(entry)
            wait = min(wait, next_check)
        return max(wait, MIN_WAIT_SECONDS)

    def run_forever(self, stop: threading.Event) -> None:
        logger.info(
            "Periodic jobs run inside this server at the beat schedule's times (no CELERY_BROKER_URL): %s",
            ", ".join(entry.task for entry in self.entries),
        )
        while not stop.is_set():
            try:
                wait = self.tick()
            except Exception:
                logger.exception("The embedded beat schedule failed a round; it tries again shortly")
                wait = MAX_WAIT_SECONDS
            finally:
                # This thread's own connections, not left open across the wait.
                connections.close_all()
            stop.wait(wait)

    def _run(self, entry: Entry) -> None:
        try:
            if entry.task not in self.app.tasks:
                # The tasks modules Celery loads in a worker; here nothing may have imported them yet.
                self.app.autodiscover_tasks(force=True)
            self.app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs, throw=True)
        except Exception:
            # Success needs no line of ours: Celery logs each task that ran, with its result.
            logger.exception("Periodic task %s (%s) failed", entry.task, entry.name)


def _schedule(value, relative: bool, app: Celery, now: Callable[[], datetime]) -> BaseSchedule:
    """Celery's schedule object for an entry's `schedule`, reading the time from `now`."""
    if isinstance(value, int | float):
        value = timedelta(seconds=value)
    if isinstance(value, timedelta):
        return schedule(run_every=value, relative=relative, nowfun=now, app=app)
    # A copy: the settings' own crontab keeps its clock.
    value = copy.copy(value)
    value.nowfun = now
    value.app = app
    return value


def serves_here(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether this process is the development server that answers requests."""
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    return environ.get(DJANGO_AUTORELOAD_ENV) == "true" or "--noreload" in argv[2:]


_thread: threading.Thread | None = None
_lock = threading.Lock()


def start_in_development_server(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> threading.Thread | None:
    """Start the schedule's thread if this process is the development server on the in-memory broker.

    Called as config.wsgi loads (runserver and gunicorn alike); returns the thread, or None where it
    has no place.
    """
    global _thread
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if not (settings.EMBEDDED_BEAT and serves_here(argv, environ) and uses_in_memory_broker()):
        return None
    with _lock:
        if _thread is None:
            beat = EmbeddedBeat(app=celery_app, beat_schedule=celery_app.conf.beat_schedule)
            _thread = threading.Thread(
                target=beat.run_forever, args=(threading.Event(),), name="embedded-beat", daemon=True
            )
            _thread.start()
    return _thread
