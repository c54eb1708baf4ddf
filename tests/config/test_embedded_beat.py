"""The development server runs the beat schedule itself when there is no broker (config/embedded_beat.py).

Each round is driven by a clock the test moves: no waiting, no timing.
"""

import importlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from celery.schedules import crontab

from config import embedded_beat
from config.celery import app as project_app
from config.embedded_beat import EmbeddedBeat, serves_here, start_in_development_server


class Clock:
    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, hour: int, minute: int, second: int = 0) -> None:
        self.current = self.current.replace(hour=hour, minute=minute, second=second)


@pytest.fixture
def clock():
    return Clock(datetime(2030, 1, 7, 12, 0, tzinfo=UTC))


@pytest.fixture
def app():
    """A Celery app of the test's own, whose tasks record their runs.

    Its tasks are not shared: a shared task joins every Celery app made after it, the next test's too.
    """
    app = Celery("embedded-beat-test", set_as_current=False)
    app.conf.timezone = "UTC"
    app.runs = []

    @app.task(name="test.sweep", shared=False)
    def sweep(*args, **kwargs):
        app.runs.append(("test.sweep", args, kwargs))

    @app.task(name="test.remind", shared=False)
    def remind():
        app.runs.append(("test.remind", (), {}))

    @app.task(name="test.broken", shared=False)
    def broken():
        app.runs.append(("test.broken", (), {}))
        raise RuntimeError("the job broke")

    return app


def runs(app) -> list[str]:
    return [name for name, _, _ in app.runs]


# --- When entries run --------------------------------------------------------------------------------------


def test_an_entry_runs_once_each_time_its_interval_has_passed(app, clock):
    beat = EmbeddedBeat(
        app=app, beat_schedule={"sweep": {"task": "test.sweep", "schedule": timedelta(minutes=5)}}, now=clock
    )

    beat.tick()
    clock.set(12, 4, 59)
    beat.tick()
    assert runs(app) == []

    clock.set(12, 5)
    beat.tick()
    clock.set(12, 5, 30)
    beat.tick()
    assert runs(app) == ["test.sweep"]

    clock.set(12, 10)
    beat.tick()
    assert runs(app) == ["test.sweep", "test.sweep"]


def test_only_the_entries_that_are_due_run(app, clock):
    schedule = {
        "sweep": {"task": "test.sweep", "schedule": 300},  # a number is seconds, as for beat
        "remind": {"task": "test.remind", "schedule": timedelta(minutes=15)},
    }
    beat = EmbeddedBeat(app=app, beat_schedule=schedule, now=clock)

    clock.set(12, 5)
    beat.tick()
    assert runs(app) == ["test.sweep"]

    clock.set(12, 15)
    beat.tick()
    assert runs(app) == ["test.sweep", "test.sweep", "test.remind"]


def test_a_crontab_entry_runs_at_its_times(app, clock):
    clock.set(10, 59)
    beat = EmbeddedBeat(
        app=app, beat_schedule={"hourly": {"task": "test.remind", "schedule": crontab(minute=0)}}, now=clock
    )

    clock.set(10, 59, 59)
    beat.tick()
    assert runs(app) == []

    clock.set(11, 0)
    beat.tick()
    clock.set(11, 30)
    beat.tick()
    assert runs(app) == ["test.remind"]

    clock.set(12, 0)
    beat.tick()
    assert runs(app) == ["test.remind", "test.remind"]


def test_the_entry_arguments_reach_the_task(app, clock):
    schedule = {"sweep": {"task": "test.sweep", "schedule": 60, "args": [1, 2], "kwargs": {"limit": 3}}}
    beat = EmbeddedBeat(app=app, beat_schedule=schedule, now=clock)

    clock.set(12, 1)
    beat.tick()

    assert app.runs == [("test.sweep", (1, 2), {"limit": 3})]


def test_a_round_says_how_long_until_an_entry_may_be_due(app, clock):
    beat = EmbeddedBeat(app=app, beat_schedule={"sweep": {"task": "test.sweep", "schedule": 30}}, now=clock)
    assert beat.tick() == 30

    clock.set(12, 0, 20)
    assert beat.tick() == 10

    # However far off, it looks again within a minute.
    daily = EmbeddedBeat(
        app=app, beat_schedule={"daily": {"task": "test.sweep", "schedule": timedelta(days=1)}}, now=clock
    )
    assert daily.tick() == embedded_beat.MAX_WAIT_SECONDS


# --- Failures ----------------------------------------------------------------------------------------------


def test_a_failing_task_is_logged_and_the_others_still_run(app, clock, caplog):
    schedule = {
        "broken": {"task": "test.broken", "schedule": 60},
        "sweep": {"task": "test.sweep", "schedule": 60},
    }
    beat = EmbeddedBeat(app=app, beat_schedule=schedule, now=clock)

    clock.set(12, 1)
    with caplog.at_level(logging.ERROR, logger="config.embedded_beat"):
        beat.tick()

    assert runs(app) == ["test.broken", "test.sweep"]
    [record] = caplog.records
    assert record.getMessage() == "Periodic task test.broken (broken) failed"
    assert "the job broke" in caplog.text

    clock.set(12, 2)
    beat.tick()
    assert runs(app) == ["test.broken", "test.sweep", "test.broken", "test.sweep"]


def test_a_task_name_no_one_registered_is_logged_and_the_others_still_run(app, clock, caplog):
    schedule = {
        "gone": {"task": "test.no_such_task", "schedule": 60},
        "sweep": {"task": "test.sweep", "schedule": 60},
    }
    beat = EmbeddedBeat(app=app, beat_schedule=schedule, now=clock)

    clock.set(12, 1)
    with caplog.at_level(logging.ERROR, logger="config.embedded_beat"):
        beat.tick()

    assert runs(app) == ["test.sweep"]
    assert "Periodic task test.no_such_task (gone) failed" in caplog.text


def test_the_thread_outlives_a_failed_round(app, clock, caplog):
    beat = EmbeddedBeat(app=app, beat_schedule={}, now=clock)
    stop = threading.Event()

    def failing_round():
        stop.set()  # the one round of this test
        raise RuntimeError("round failed")

    beat.tick = failing_round
    # In a thread of its own, as in the server: it closes that thread's database connections.
    thread = threading.Thread(target=beat.run_forever, args=(stop,))
    with caplog.at_level(logging.ERROR, logger="config.embedded_beat"):
        thread.start()
        thread.join(timeout=5)

    assert not thread.is_alive()
    assert "The embedded beat schedule failed a round" in caplog.text


# --- The project's schedule --------------------------------------------------------------------------------


def test_every_entry_of_the_project_schedule_is_read_and_none_is_due_at_start(clock):
    beat = EmbeddedBeat(app=project_app, beat_schedule=project_app.conf.beat_schedule, now=clock)

    assert [entry.name for entry in beat.entries] == list(project_app.conf.beat_schedule)
    assert all(not entry.schedule.is_due(entry.last_run_at).is_due for entry in beat.entries)


# --- Where it starts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], {"RUN_MAIN": "true"}),  # the autoreloader's child
        (["manage.py", "runserver", "--noreload"], {}),
    ],
)
def test_runserver_serves_in_the_autoreloaders_child_or_without_the_autoreloader(argv, environ):
    assert serves_here(argv, environ)


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], {}),  # the autoreloader's parent only watches files
        (["manage.py", "migrate"], {}),
        (["manage.py", "shell"], {"RUN_MAIN": "true"}),
        (["manage.py", "test", "--noreload"], {}),
        (["gunicorn", "config.wsgi:application"], {}),
        (["celery", "-A", "config", "worker"], {}),
        (["celery", "-A", "config", "beat"], {}),
        (["pytest"], {}),
    ],
)
def test_nothing_else_serves(argv, environ):
    assert not serves_here(argv, environ)


RUNSERVER_CHILD = {"argv": ["manage.py", "runserver"], "environ": {"RUN_MAIN": "true"}}


@pytest.fixture
def started(monkeypatch):
    """The threads start_in_development_server would start, recorded instead of started."""
    threads = []

    class RecordedThread:
        def __init__(self, **kwargs):
            self.kwargs = kwargs
            threads.append(self)

        def start(self):
            pass

    monkeypatch.setattr(embedded_beat, "_thread", None)
    monkeypatch.setattr(embedded_beat.threading, "Thread", RecordedThread)
    return threads


def test_the_test_settings_never_start_it(started):
    assert start_in_development_server(**RUNSERVER_CHILD) is None
    assert started == []


def test_development_settings_turn_it_on(monkeypatch):
    monkeypatch.delenv("EMBEDDED_BEAT", raising=False)
    assert importlib.import_module("config.settings.dev").EMBEDDED_BEAT is True


def test_the_development_server_on_the_in_memory_broker_starts_one_daemon_thread(
    settings, started, monkeypatch
):
    settings.EMBEDDED_BEAT = True
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://localhost/")  # Celery reads it before its settings

    thread = start_in_development_server(**RUNSERVER_CHILD)
    assert start_in_development_server(**RUNSERVER_CHILD) is thread

    assert started == [thread]
    assert thread.kwargs["daemon"] is True


def test_a_real_broker_leaves_the_schedule_to_beat(settings, started, monkeypatch):
    settings.EMBEDDED_BEAT = True
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")  # Celery reads it before its settings

    assert start_in_development_server(**RUNSERVER_CHILD) is None
    assert started == []


def test_other_management_commands_never_start_it(settings, started):
    settings.EMBEDDED_BEAT = True

    for command in ("migrate", "shell", "test", "ensure_dev_admin"):
        assert start_in_development_server(argv=["manage.py", command], environ={"RUN_MAIN": "true"}) is None
    assert started == []
