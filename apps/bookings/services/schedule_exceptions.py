"""Dated exceptions to a provider's weekly hours: days off, holidays, changed hours.

Saving one never cancels a booking. The provider's active bookings that the new schedule leaves
outside working time (all of them on a day off; those outside the changed hours) are returned to
the caller, which shows them, and the provider is sent a message listing them: the provider
decides whether to cancel, move or keep each one. Bookings that have already ended are left out.

Writes lock the provider's profile row first, as `working_hours_replace` does, so two saves for
one provider run one after the other and the overlap check reads what the other committed; on
PostgreSQL an exclusion constraint holds the rule as well.
"""

from dataclasses import dataclass, field
from datetime import date, time
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.bookings import rules, selectors
from apps.bookings.constraints import EXCEPTION_ONE_PER_START, EXCEPTION_OVERLAP, violated_constraint
from apps.bookings.models import (
    EXCEPTION_MAX_DAYS,
    OFF_KINDS,
    Booking,
    ExceptionKind,
    ProviderProfile,
    ScheduleException,
)
from apps.bookings.notifications import schedule_exception_conflicts_notify
from apps.bookings.services.schedule import SAME_DAY_ONLY, provider_profile_for
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_EXCEPTION_INTERVALS = 10


class ClockInterval(TypedDict):
    start: time
    end: time


@dataclass(frozen=True)
class ScheduleExceptionSaved:
    """A saved exception and the active bookings it leaves outside working time."""

    exception: ScheduleException
    conflicts: list[Booking] = field(default_factory=list)


def _label(exception: ScheduleException) -> str:
    return f"{exception.start_date:%Y-%m-%d} to {exception.end_date:%Y-%m-%d}"


def clock_intervals_check(intervals: list[ClockInterval], *, name: str = "intervals") -> None:
    """InvalidInput keyed by list position (`intervals.1.end`): whole minutes, end after start on
    the same day, no overlaps (touching is fine), at most MAX_EXCEPTION_INTERVALS."""
    if len(intervals) > MAX_EXCEPTION_INTERVALS:
        raise errors.InvalidInput(
            {name: [_("At most %(n)d intervals a day.") % {"n": MAX_EXCEPTION_INTERVALS}]}
        )
    problems: dict[str, list[Any]] = {}
    for index, row in enumerate(intervals):
        for part in ("start", "end"):
            if row[part].second or row[part].microsecond:
                problems[f"{name}.{index}.{part}"] = [_("Whole minutes only (HH:MM).")]
        if f"{name}.{index}.start" not in problems and not row["start"] < row["end"]:
            problems[f"{name}.{index}.end"] = [SAME_DAY_ONLY]
    if problems:
        raise errors.InvalidInput(problems)
    ordered = sorted(range(len(intervals)), key=lambda i: (intervals[i]["start"], intervals[i]["end"]))
    for first, second in pairwise(ordered):
        if intervals[second]["start"] < intervals[first]["end"]:
            other = intervals[first]
            problems[f"{name}.{second}"] = [
                _("Overlaps %(start)s-%(end)s.")
                % {"start": f"{other['start']:%H:%M}", "end": f"{other['end']:%H:%M}"}
            ]
    if problems:
        raise errors.InvalidInput(problems)


def schedule_exception_check(
    *, start_date: date, end_date: date, kind: str, intervals: list[ClockInterval], today: date
) -> None:
    """The rules of one exception on its own, as field errors: dates in order, at most
    EXCEPTION_MAX_DAYS days, not over already; hours for changed hours, none for a day off."""
    problems: dict[str, list[Any]] = {}
    if kind not in ExceptionKind.values:
        problems["kind"] = [_("One of: %(kinds)s.") % {"kinds": ", ".join(ExceptionKind.values)}]
    if end_date < start_date:
        problems["end_date"] = [_("The last day cannot be before the first.")]
    elif (end_date - start_date).days + 1 > EXCEPTION_MAX_DAYS:
        problems["end_date"] = [_("At most %(n)d days at once.") % {"n": EXCEPTION_MAX_DAYS}]
    elif end_date < today:
        problems["end_date"] = [
            _("These days are over (today is %(today)s in your zone).") % {"today": today}
        ]
    if kind in OFF_KINDS and intervals:
        problems["intervals"] = [_("A day off has no hours: leave intervals out, or use kind hours.")]
    if kind == ExceptionKind.HOURS and not intervals:
        problems["intervals"] = [_("Give the hours of the day (a day without hours is a day off).")]
    if problems:
        raise errors.InvalidInput(problems)
    clock_intervals_check(intervals)


def _stored(intervals: list[ClockInterval]) -> list[dict[str, str]]:
    ordered = sorted(intervals, key=lambda row: row["start"])
    return [{"start": f"{row['start']:%H:%M}", "end": f"{row['end']:%H:%M}"} for row in ordered]


def _state(exception: ScheduleException) -> dict[str, Any]:
    return {
        "start_date": exception.start_date.isoformat(),
        "end_date": exception.end_date.isoformat(),
        "kind": exception.kind,
        "intervals": list(exception.intervals),
        "note": exception.note,
    }


def bookings_outside(exception: ScheduleException) -> list[Booking]:
    """The provider's active bookings, not yet ended, that `exception` leaves outside working time."""
    profile = exception.provider
    tz = selectors.provider_zone(profile.user)
    lo, _end = rules.day_bounds(exception.start_date, tz)
    _start, hi = rules.day_bounds(exception.end_date, tz)
    now = timezone.now()
    hours = list(profile.working_hours.all())
    return [
        booking
        for booking in selectors.bookings_between(provider_id=profile.pk, start=max(lo, now), end=hi)
        if not rules.inside_working_hours(booking.start, booking.end, hours, tz, exceptions=[exception])
    ]


def _save(
    exception: ScheduleException,
    *,
    action: str,
    before: dict[str, Any],
    actor: "User",
    request: HttpRequest | None,
) -> list[Booking]:
    """Check, write, audit and report the conflicts; the caller holds the profile lock."""
    others = selectors.schedule_exceptions_between(
        provider_id=exception.provider_id, first=exception.start_date, last=exception.end_date
    )
    clash = next((other for other in others if other.pk != exception.pk), None)
    if clash is not None:
        raise errors.Conflict(
            _("You already have an exception on some of these days (%(days)s); change or delete it first.")
            % {"days": _label(clash)}
        )
    try:
        with transaction.atomic():
            exception.save()
    except IntegrityError as exc:  # the constraints: only if the check above was bypassed
        if violated_constraint(exc) in (EXCEPTION_OVERLAP, EXCEPTION_ONE_PER_START):
            raise errors.Conflict(_("You already have an exception on some of these days.")) from exc
        raise
    audit(
        action=action, actor=actor, target=exception, changes=diff(before, _state(exception)), request=request
    )
    conflicts = bookings_outside(exception)
    if conflicts:
        schedule_exception_conflicts_notify(exception, conflicts)
    return conflicts


def _today(profile_user: "User") -> date:
    return timezone.now().astimezone(selectors.provider_zone(profile_user)).date()


@transaction.atomic
def schedule_exception_create(
    *,
    provider: "User",
    start_date: date,
    kind: str,
    end_date: date | None = None,
    intervals: list[ClockInterval] | None = None,
    note: str = "",
    actor: "User",
    request: HttpRequest | None = None,
) -> ScheduleExceptionSaved:
    """A new exception to `provider`'s weekly hours over `start_date`..`end_date` (one day when
    left out), and the bookings it leaves outside working time (see the module's docstring)."""
    profile = provider_profile_for(provider, lock=True)
    intervals = intervals or []
    end_date = end_date or start_date
    schedule_exception_check(
        start_date=start_date, end_date=end_date, kind=kind, intervals=intervals, today=_today(provider)
    )
    exception = ScheduleException(
        provider=profile,
        start_date=start_date,
        end_date=end_date,
        kind=kind,
        intervals=_stored(intervals),
        note=note,
    )
    conflicts = _save(exception, action="schedule_exception.create", before={}, actor=actor, request=request)
    return ScheduleExceptionSaved(exception, conflicts)


@transaction.atomic
def schedule_exception_update(
    *,
    exception: ScheduleException,
    data: dict[str, Any],
    actor: "User",
    request: HttpRequest | None = None,
) -> ScheduleExceptionSaved:
    """Change any of `start_date`, `end_date`, `kind`, `intervals`, `note`; the rest stays. A
    change to a day off drops the hours; the bookings reported are those outside the result."""
    # The profile first, as every write of a schedule locks it; then the row as it is now.
    ProviderProfile.objects.select_for_update().filter(pk=exception.provider_id).first()
    current = ScheduleException.objects.select_related("provider__user").filter(pk=exception.pk).first()
    if current is None:
        raise errors.NotFound()
    exception, profile = current, current.provider
    before = _state(exception)
    start_date = data.get("start_date", exception.start_date)
    end_date = data.get("end_date", exception.end_date if "start_date" not in data else None) or start_date
    kind = data.get("kind", exception.kind)
    if "intervals" in data:
        intervals: list[ClockInterval] = list(data["intervals"])
    elif kind in OFF_KINDS:
        intervals = []
    else:
        intervals = [{"start": start, "end": end} for start, end in exception.clock_intervals()]
    schedule_exception_check(
        start_date=start_date, end_date=end_date, kind=kind, intervals=intervals, today=_today(profile.user)
    )
    exception.start_date, exception.end_date, exception.kind = start_date, end_date, kind
    exception.intervals = _stored(intervals)
    exception.note = data.get("note", exception.note)
    if _state(exception) == before:
        return ScheduleExceptionSaved(exception, bookings_outside(exception))
    conflicts = _save(
        exception, action="schedule_exception.update", before=before, actor=actor, request=request
    )
    return ScheduleExceptionSaved(exception, conflicts)


@transaction.atomic
def schedule_exception_delete(
    *, exception: ScheduleException, actor: "User", request: HttpRequest | None = None
) -> None:
    """Remove the exception: its days follow the weekly hours again."""
    before = _state(exception)
    audit(
        action="schedule_exception.delete",
        actor=actor,
        target=exception,
        changes=diff(before, {}),
        request=request,
    )
    exception.delete()
