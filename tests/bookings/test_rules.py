"""The time rules as plain functions: durations, the grid, working windows across clock changes."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from apps.bookings import rules
from tests.bookings.factories import last_sunday

LONDON = ZoneInfo("Europe/London")


@dataclass
class Row:
    weekday: int
    start: time
    end: time


@pytest.mark.parametrize(
    ("minutes", "ok"), [(15, True), (45, True), (480, True), (10, False), (490, False), (25, False)]
)
def test_durations(minutes, ok):
    assert (rules.duration_problem(minutes) is None) is ok


def test_a_larger_slot_raises_the_shortest_duration(settings):
    settings.BOOKING_SLOT_MINUTES = 30
    assert rules.duration_problem(15) is not None
    assert rules.duration_problem(30) is None
    assert rules.duration_problem(45) is not None


def test_the_grid_is_the_local_clock():
    kolkata = ZoneInfo("Asia/Kolkata")
    assert rules.on_grid(datetime(2030, 1, 1, 4, 45, tzinfo=UTC), kolkata)  # 10:15 there
    assert not rules.on_grid(datetime(2030, 1, 1, 4, 50, tzinfo=UTC), kolkata)
    assert not rules.on_grid(datetime(2030, 1, 1, 4, 45, 30, tzinfo=UTC), kolkata)


def test_touching_intervals_merge_and_clock_changes_stretch_them():
    spring, autumn = last_sunday(2030, 3), last_sunday(2030, 10)
    hours = [Row(6, time(0), time(2)), Row(6, time(2), time(4))]
    (window,) = rules.working_windows(spring, hours, LONDON)
    assert (window.end - window.start).total_seconds() == 3 * 3600
    (window,) = rules.working_windows(autumn, hours, LONDON)
    assert (window.end - window.start).total_seconds() == 5 * 3600


def test_an_interval_the_clock_change_swallows_is_no_window():
    spring = last_sunday(2030, 3)
    # 01:00-01:45 does not exist that night: both ends name 01:00-01:45 UTC, a window of 45 minutes
    # in real time; it still counts, as the time it would have been before the change.
    (window,) = rules.working_windows(spring, [Row(6, time(1), time(1, 45))], LONDON)
    assert window.start == datetime(spring.year, 3, spring.day, 1, 0, tzinfo=UTC)


def test_free_slots_skip_busy_time():
    day = date(2030, 1, 7)  # a Monday
    hours = [Row(0, time(9), time(11))]
    busy = [rules.Interval(datetime(2030, 1, 7, 9, 30, tzinfo=UTC), datetime(2030, 1, 7, 10, 0, tzinfo=UTC))]
    slots = rules.free_slots(
        day=day,
        hours=hours,
        tz=LONDON,
        busy=busy,
        minutes=30,
        earliest=datetime(2000, 1, 1, tzinfo=UTC),
        latest=datetime(2100, 1, 1, tzinfo=UTC),
    )
    assert [s.start.astimezone(LONDON).strftime("%H:%M") for s in slots] == [
        "09:00",
        "10:00",
        "10:15",
        "10:30",
    ]


# --- Dated exceptions --------------------------------------------------------------------------------
def _exception(first: date, last: date, kind: str, *hours: tuple[str, str]):
    from apps.bookings.models import ScheduleException

    intervals = [{"start": start, "end": end} for start, end in hours]
    return ScheduleException(start_date=first, end_date=last, kind=kind, intervals=intervals)


WEEKDAYS_NINE_TO_FIVE = [Row(weekday, time(9), time(17)) for weekday in range(7)]


@pytest.mark.parametrize("kind", ["day_off", "holiday"])
def test_a_day_off_has_no_working_windows(kind):
    day = date(2030, 6, 12)
    off = _exception(day, day, kind)
    assert rules.working_windows(day, WEEKDAYS_NINE_TO_FIVE, LONDON, exceptions=[off]) == []


def test_changed_hours_replace_the_weekly_ones_on_every_day_of_the_range():
    first, last = date(2030, 6, 10), date(2030, 6, 12)
    short = _exception(first, last, "hours", ("13:00", "15:00"), ("10:00", "12:00"))
    windows = rules.working_windows(date(2030, 6, 11), WEEKDAYS_NINE_TO_FIVE, LONDON, exceptions=[short])
    assert [(w.start.hour, w.end.hour) for w in windows] == [(9, 11), (12, 14)]  # UTC, London is +1


def test_days_outside_the_exception_keep_the_weekly_hours():
    off = _exception(date(2030, 6, 10), date(2030, 6, 12), "day_off")
    (window,) = rules.working_windows(date(2030, 6, 13), WEEKDAYS_NINE_TO_FIVE, LONDON, exceptions=[off])
    assert (window.start.hour, window.end.hour) == (8, 16)


def test_without_exceptions_only_the_weekly_hours_count():
    day = date(2030, 6, 12)
    assert rules.working_windows(day, WEEKDAYS_NINE_TO_FIVE, LONDON) == rules.working_windows(
        day, WEEKDAYS_NINE_TO_FIVE, LONDON, exceptions=[]
    )


def test_changed_hours_on_a_clock_change_night_follow_the_wall_clock():
    spring = last_sunday(2030, 3)
    night = _exception(spring, spring, "hours", ("00:00", "04:00"))
    (window,) = rules.working_windows(spring, [], LONDON, exceptions=[night])
    assert (window.end - window.start).total_seconds() == 3 * 3600


def test_free_slots_and_the_working_hours_check_honour_exceptions():
    day = date(2030, 6, 12)
    afternoon = _exception(day, day, "hours", ("14:00", "16:00"))
    slots = rules.free_slots(
        day=day,
        hours=WEEKDAYS_NINE_TO_FIVE,
        tz=LONDON,
        busy=[],
        minutes=60,
        earliest=datetime(2030, 1, 1, tzinfo=UTC),
        latest=datetime(2031, 1, 1, tzinfo=UTC),
        exceptions=[afternoon],
    )
    assert [slot.start.astimezone(LONDON).strftime("%H:%M") for slot in slots] == [
        "14:00",
        "14:15",
        "14:30",
        "14:45",
        "15:00",
    ]
    ten = datetime(2030, 6, 12, 10, tzinfo=LONDON)
    assert rules.inside_working_hours(ten, ten.replace(hour=11), WEEKDAYS_NINE_TO_FIVE, LONDON)
    assert not rules.inside_working_hours(
        ten, ten.replace(hour=11), WEEKDAYS_NINE_TO_FIVE, LONDON, exceptions=[afternoon]
    )
