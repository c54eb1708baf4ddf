"""The database log handler: one cause writes a bounded number of rows per window; the rest are
counted and summed up in one row once the window is over."""

import logging

import pytest

from apps.logs import handlers
from apps.logs.handlers import CauseLimiter, DatabaseLogHandler
from apps.logs.models import ApplicationLog

pytestmark = pytest.mark.django_db(databases="__all__")


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(handlers.time, "time", clock)
    return clock


@pytest.fixture
def probe():
    logger = logging.getLogger("apps.probe.flood")
    handler = DatabaseLogHandler(level=logging.WARNING)
    logger.addHandler(handler)
    logger.propagate = False  # the root logger's own database handler would store a second copy
    yield logger
    logger.removeHandler(handler)
    logger.propagate = True


def fail(logger, value: str) -> None:
    try:
        {}[value]
    except KeyError:
        logger.exception("Unhandled error in %s", value)


def rows():
    return list(ApplicationLog.objects.using("logs").order_by("id").values_list("level", "message"))


def test_one_cause_writes_at_most_the_limit_per_window(settings, clock, probe):
    settings.APPLICATION_LOG_MAX_PER_CAUSE = 3
    for n in range(10):
        fail(probe, f"view {n}")
    assert [message for _, message in rows()] == [
        "Unhandled error in view 0",
        "Unhandled error in view 1",
        "Unhandled error in view 2",
    ]


def test_the_dropped_records_are_summed_up_once_the_window_is_over(settings, clock, probe):
    settings.APPLICATION_LOG_MAX_PER_CAUSE = 3
    settings.APPLICATION_LOG_CAUSE_WINDOW_SECONDS = 60
    for n in range(10):
        fail(probe, f"view {n}")
    clock.now += 60
    fail(probe, "view 10")
    summary, latest = rows()[3:]
    assert summary[0] == "WARNING"
    assert summary[1].startswith("7 more records like this were dropped in the 60 s from ")
    assert "Unhandled error in %s (KeyError at " in summary[1]
    assert latest == ("ERROR", "Unhandled error in view 10")


def test_another_cause_has_its_own_budget(settings, clock, probe):
    settings.APPLICATION_LOG_MAX_PER_CAUSE = 1
    fail(probe, "a")
    fail(probe, "b")  # same template, exception and place: the same cause
    probe.warning("Something else entirely")
    try:
        int("x")
    except ValueError:
        probe.exception("Unhandled error in %s", "c")  # another exception, raised elsewhere
    assert [message for _, message in rows()] == [
        "Unhandled error in a",
        "Something else entirely",
        "Unhandled error in c",
    ]


def test_a_window_without_drops_leaves_no_summary():
    limiter = CauseLimiter()
    assert limiter.admit(("x",), now=0, limit=2, seconds=60) == (True, [])
    assert limiter.admit(("x",), now=61, limit=2, seconds=60) == (True, [])


def test_the_limiter_reports_each_ended_window_with_its_drops_once():
    limiter = CauseLimiter()
    for _ in range(5):
        limiter.admit(("x",), now=10, limit=2, seconds=60)
    assert limiter.admit(("y",), now=30, limit=2, seconds=60) == (True, [])
    assert limiter.admit(("y",), now=70, limit=2, seconds=60) == (True, [(("x",), 3, 10)])
    assert limiter.admit(("y",), now=71, limit=2, seconds=60) == (False, [])


def test_too_many_causes_at_once_share_one_budget(monkeypatch):
    monkeypatch.setattr(handlers, "MAX_CAUSES", 2)
    limiter = CauseLimiter()
    assert limiter.admit(("a",), now=0, limit=1, seconds=60)[0]
    assert limiter.admit(("b",), now=0, limit=1, seconds=60)[0]
    assert limiter.admit(("c",), now=0, limit=1, seconds=60)[0]  # the shared budget's first
    assert not limiter.admit(("d",), now=0, limit=1, seconds=60)[0]
