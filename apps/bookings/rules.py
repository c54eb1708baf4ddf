"""The time rules of a booking, as plain functions over datetimes: durations, the slot grid, working
hours in the provider's zone, and the free slots of a day.

Working hours are wall-clock intervals in the provider's IANA zone. A wall-clock time names an
instant through zoneinfo: in the hour the clocks go back, the first of the two instants (fold 0);
for a time the clocks skip (spring forward), the instant it would have been before the change,
so an interval 00:00-04:00 lasts three hours on that night and five on the autumn one. Bookings
and slots are instants (UTC), stepped in real time; the grid is the provider's clock: a booking
starts at a multiple of `BOOKING_SLOT_MINUTES` past the hour there (09:00, 09:15, …).

Intervals of one day that touch (09:00-12:00 and 12:00-15:00) count as one: a booking may run
from one into the other, but never out of working time.

A dated exception (`ScheduleException`) replaces the weekly hours on each day it covers: a day off
or a holiday has no working time; changed hours have their own intervals, read as the weekly ones
are. Callers pass a provider's exceptions around the days they ask about (`exceptions=`, loaded by
`selectors.schedule_exceptions_between`); without them only the weekly hours count.

Every interval ends on the day it starts (`23:59` at the latest): a night shift is two intervals,
and a booking never runs past midnight in the provider's zone (see the README).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.conf import settings

from apps.bookings.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other_start: datetime, other_end: datetime) -> bool:
        return self.start < other_end and other_start < self.end


def slot_minutes() -> int:
    return settings.BOOKING_SLOT_MINUTES


def duration_problem(minutes: int) -> str | None:
    """Why `minutes` is not a bookable duration, or None."""
    slot = slot_minutes()
    low = max(MIN_DURATION_MINUTES, slot)
    if minutes < low or minutes > MAX_DURATION_MINUTES or minutes % slot:
        hours = MAX_DURATION_MINUTES // 60
        return f"A booking lasts {low} minutes to {hours} hours, in steps of {slot} minutes."
    return None


def earliest_start(now: datetime) -> datetime:
    return now + timedelta(minutes=settings.BOOKING_LEAD_MINUTES)


def latest_start(now: datetime) -> datetime:
    return now + timedelta(days=settings.BOOKING_MAX_DAYS_AHEAD)


def on_grid(instant: datetime, tz: ZoneInfo) -> bool:
    local = instant.astimezone(tz)
    return (
        local.second == 0
        and local.microsecond == 0
        and (local.hour * 60 + local.minute) % slot_minutes() == 0
    )


def wall_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant (UTC) that `clock` on `day` names in `tz`; see the module's docstring."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the local `day` starts and ends."""
    return wall_instant(day, time(0), tz), wall_instant(day + timedelta(days=1), time(0), tz)


class DatedException(Protocol):
    """What the rules read of a `ScheduleException`."""

    start_date: date
    end_date: date

    def clock_intervals(self) -> list[tuple[time, time]]: ...


def exception_on(day: date, exceptions: Iterable[DatedException]) -> DatedException | None:
    """The exception that covers `day`, if any (a provider's never overlap)."""
    return next((e for e in exceptions if e.start_date <= day <= e.end_date), None)


def working_windows(
    day: date, hours: Iterable, tz: ZoneInfo, *, exceptions: Iterable[DatedException] = ()
) -> list[Interval]:
    """The day's working hours (rows with `weekday`, `start` and `end`) as instants, touching
    intervals merged, in order; on a day an exception covers, the exception's hours instead."""
    exception = exception_on(day, exceptions)
    if exception is not None:
        clocks = exception.clock_intervals()
    else:
        clocks = [(row.start, row.end) for row in hours if row.weekday == day.weekday()]
    windows = sorted(
        Interval(wall_instant(day, start, tz), wall_instant(day, end, tz)) for start, end in clocks
    )
    merged: list[Interval] = []
    for window in windows:
        if window.end <= window.start:
            continue  # swallowed by the clock change: 01:30-02:15 on a spring-forward night in London
        if merged and window.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, window.end))
        else:
            merged.append(window)
    return merged


def inside_working_hours(
    start: datetime,
    end: datetime,
    hours: Iterable,
    tz: ZoneInfo,
    *,
    exceptions: Iterable[DatedException] = (),
) -> bool:
    day = start.astimezone(tz).date()
    windows = working_windows(day, hours, tz, exceptions=exceptions)
    return any(w.start <= start and end <= w.end for w in windows)


def free_slots(
    *,
    day: date,
    hours: Iterable,
    tz: ZoneInfo,
    busy: list[Interval],
    minutes: int,
    earliest: datetime,
    latest: datetime,
    exceptions: Iterable[DatedException] = (),
) -> list[Interval]:
    """Every bookable `[start, start + minutes)` of the local `day`: on the grid, inside working
    hours (the exception's, on a day one covers), clear of `busy`, starting between `earliest`
    and `latest`."""
    step, length = timedelta(minutes=slot_minutes()), timedelta(minutes=minutes)
    busy = sorted(busy, key=lambda interval: interval.start)
    slots = []
    for window in working_windows(day, hours, tz, exceptions=exceptions):
        candidate = _first_on_grid(window.start, tz)
        while candidate + length <= window.end:
            end = candidate + length
            if (
                earliest <= candidate <= latest
                and on_grid(candidate, tz)
                and not any(b.overlaps(candidate, end) for b in busy)
            ):
                slots.append(Interval(candidate, end))
            candidate += step
    return slots


def _first_on_grid(instant: datetime, tz: ZoneInfo) -> datetime:
    local = instant.astimezone(tz)
    past = timedelta(minutes=(local.hour * 60 + local.minute) % slot_minutes(), seconds=local.second)
    past += timedelta(microseconds=local.microsecond)
    return instant if not past else instant - past + timedelta(minutes=slot_minutes())
