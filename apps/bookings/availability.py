"""Free slots across providers: every provider who offers a service, over a range of days, and the
first free slot of each.

A provider's slots are the day's free slots of `rules.free_slots` (the working windows of
`rules.working_windows`, the slot grid, the lead time and the horizon), so a search and the
one-provider `providers/{id}/availability/` can never disagree. What is new here is the loading:
`provider_schedules` reads everything the rules need for every provider at once, one query per
kind of row (providers, working hours, dated exceptions, bookings), so a search costs the same
number of queries for two providers or two hundred. The slots themselves are worked out lazily,
each provider's day by day and merged in order, so a page costs the slots up to its end: a first
page about one working day of each provider's, not the week's.

A date in a range is a day in each provider's own zone: `from=2030-01-07` starts at midnight in
London for a London provider and at midnight in Tokyo for a Tokyo one.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from apps.bookings import rules, selectors
from apps.bookings.models import ExceptionKind, ScheduleException, WorkingHours
from apps.core import errors
from apps.products.selectors import products_on_sale
from apps.roles.selectors import users_with_role
from apps.roles.spec import SystemRole

if TYPE_CHECKING:
    from apps.accounts.models import User

# The longest range one search covers: a week of slots for every provider of a service is what a
# request may compute (see the `bookings` benchmark).
MAX_SEARCH_DAYS = 7
# The first free slot is looked for a week ahead first, then a further eight weeks, then up to the
# horizon, each time only for the providers still without one: most are found in the first week,
# and the query count stays bounded (at most three bookings queries) however far away a slot is.
NEXT_SLOT_STEPS = (timedelta(days=7), timedelta(days=56))

RangeBound = date | datetime


class HoursRow(NamedTuple):
    """One interval of a weekly schedule, as `rules.working_windows` reads it (a `WorkingHours`
    row's fields, without the cost of a model instance for each of hundreds of rows)."""

    weekday: int
    start: time
    end: time


class Bookings:
    """The active bookings of some providers over `[start, end)`, read in at most two queries:
    the first `FIRST_READ` at once, the rest when a slot past it is first asked for. A first page
    of slots rarely looks past its first day, so it reads a seventh of a week's bookings."""

    FIRST_READ = timedelta(days=2)  # the first day in every provider's zone, whatever the offsets

    def __init__(self, *, provider_ids: Sequence[int], start: datetime, end: datetime) -> None:
        self.provider_ids, self.end = list(provider_ids), end
        self.read_until = min(end, start + self.FIRST_READ)
        self.by_provider = busy_by_provider(provider_ids=self.provider_ids, start=start, end=self.read_until)

    def of(self, provider_id: int, start: datetime, end: datetime) -> list[rules.Interval]:
        """The provider's bookings overlapping `[start, end)`."""
        if end > self.read_until and self.read_until < self.end:
            self._read_the_rest()
        return [b for b in self.by_provider.get(provider_id, ()) if b.start < end and start < b.end]

    def _read_the_rest(self) -> None:
        rest = busy_by_provider(provider_ids=self.provider_ids, start=self.read_until, end=self.end)
        for provider_id, intervals in rest.items():
            known = set(self.by_provider.get(provider_id, ()))  # one across the seam is in both
            self.by_provider.setdefault(provider_id, []).extend(i for i in intervals if i not in known)
        self.read_until = self.end


@dataclass(frozen=True)
class ProviderSchedule:
    """What the rules need to know about one provider, loaded in bulk."""

    provider_id: int
    name: str
    tz: ZoneInfo
    hours_by_weekday: dict[int, list[HoursRow]]
    bookings: Bookings  # every loaded provider's active bookings, read as the slots need them
    # Days off and changed hours over the loaded range: on a day one covers, its hours rule.
    exceptions: list[ScheduleException] = field(default_factory=list)

    @property
    def may_work(self) -> bool:
        """Whether the provider has any hours at all: weekly ones, or changed hours on a date."""
        return bool(self.hours_by_weekday) or any(e.kind == ExceptionKind.HOURS for e in self.exceptions)


@dataclass(frozen=True)
class ProviderSlot:
    provider_id: int
    name: str
    tz: ZoneInfo
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ProviderFirstSlot:
    provider_id: int
    name: str
    tz: ZoneInfo
    slot: rules.Interval | None


def service_on_sale(*, product_id: int) -> None:
    """Refuses a service that does not exist or is not on sale (as booking one would)."""
    if not products_on_sale().filter(pk=product_id).exists():
        raise errors.InvalidInput({"service": [_("No service on sale has this id.")]})


def providers_offering(*, product_id: int) -> list[User]:
    """The active providers offering the product, with their profiles, by id (one query)."""
    return list(
        users_with_role(SystemRole.PROVIDER)
        .filter(provider_profile__products=product_id)
        .select_related("provider_profile")
        .only("id", "full_name", "username", "provider_profile__time_zone")
        .order_by("id")
    )


def provider_schedules(
    *,
    providers: Sequence[User],
    start: datetime,
    end: datetime,
    exceptions: dict[int, list[ScheduleException]] | None = None,
) -> list[ProviderSchedule]:
    """Each of `providers` with their weekly hours, their dated exceptions and the active bookings
    that overlap `[start, end)`: one query for all the hours, one for all the exceptions and one or
    two for all the bookings (`Bookings`)."""
    ids = [provider.pk for provider in providers]
    hours: dict[int, dict[int, list[HoursRow]]] = defaultdict(lambda: defaultdict(list))
    rows = WorkingHours.objects.filter(provider_id__in=ids).values_list(
        "provider_id", "weekday", "start", "end"
    )
    for provider_id, weekday, start_at, end_at in rows:
        hours[provider_id][weekday].append(HoursRow(weekday, start_at, end_at))
    bookings = Bookings(provider_ids=ids, start=start, end=end)
    if exceptions is None:
        exceptions = exceptions_by_provider(provider_ids=ids, start=start, end=end)
    return [
        ProviderSchedule(
            provider_id=provider.pk,
            name=provider.get_full_name(),
            tz=selectors.provider_zone(provider),
            hours_by_weekday=dict(hours.get(provider.pk, {})),
            bookings=bookings,
            exceptions=exceptions.get(provider.pk, []),
        )
        for provider in providers
    ]


def exceptions_by_provider(
    *, provider_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[ScheduleException]]:
    """The providers' dated exceptions over `[start, end)` (one query), by provider id."""
    # A day either side: the range is in UTC, an exception's dates are in the provider's zone.
    return selectors.schedule_exceptions_by_provider(
        provider_ids=provider_ids, first=start.date() - timedelta(days=1), last=end.date() + timedelta(days=1)
    )


def busy_by_provider(
    *, provider_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[rules.Interval]]:
    """The active bookings overlapping `[start, end)` of each provider, by start (one query)."""
    rows = (
        selectors.overlapping(start=start, end=end)
        .filter(provider_id__in=list(provider_ids))
        .order_by("provider_id", "start")
        .values_list("provider_id", "start", "end")
    )
    busy: dict[int, list[rules.Interval]] = defaultdict(list)
    for provider_id, lo, hi in rows:
        busy[provider_id].append(rules.Interval(lo, hi))
    return busy


def local_bound(bound: RangeBound, tz: ZoneInfo, *, end: bool) -> datetime:
    """A range bound as an instant for a provider in `tz`: a date is that day's midnight there
    (the next midnight for the end of a range: the last day counts whole)."""
    if isinstance(bound, datetime):
        return bound
    return rules.wall_instant(bound + timedelta(days=1) if end else bound, time(0), tz)


def span_problems(start: RangeBound, end: RangeBound, *, now: datetime) -> dict[str, list[str]]:
    """Why `[start, end]` is not a range one search may cover, as field errors (empty if it is)."""
    lo, hi = local_bound(start, ZoneInfo("UTC"), end=False), local_bound(end, ZoneInfo("UTC"), end=True)
    latest = rules.latest_start(now)
    if lo > latest:
        days = (latest - now).days
        return {"from": [_("Bookings may be made at most %(days)d days ahead.") % {"days": days}]}
    if hi <= lo:
        return {"to": [_("Give a `to` after `from`.")]}
    if hi - lo > timedelta(days=MAX_SEARCH_DAYS):
        return {"to": [_("At most %(days)d days from `from`.") % {"days": MAX_SEARCH_DAYS}]}
    return {}


def duration_problems(minutes: int) -> dict[str, list[str]]:
    problem = rules.duration_problem(minutes)
    return {"duration": [problem]} if problem is not None else {}


def schedule_slots(
    schedule: ProviderSchedule,
    *,
    start: datetime,
    end: datetime,
    minutes: int,
    earliest: datetime,
    latest: datetime,
) -> Iterator[rules.Interval]:
    """The provider's free slots starting in `[start, end)`, in order, through `rules.free_slots`
    (which reads the working windows of `rules.working_windows`). Lazy: each day of the provider's
    is worked out when the slots before it have been taken."""
    tz = schedule.tz
    lo, hi = max(start, earliest), min(end, latest + timedelta(microseconds=1))
    if lo >= hi:
        return
    # `hi` is exclusive: a range ending at midnight does not reach into the next day.
    day, last = lo.astimezone(tz).date(), (hi - timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        hours = schedule.hours_by_weekday.get(day.weekday(), [])
        if hours or rules.exception_on(day, schedule.exceptions) is not None:
            day_lo, day_hi = rules.day_bounds(day, tz)
            for slot in rules.free_slots(
                day=day,
                hours=hours,
                tz=tz,
                exceptions=schedule.exceptions,
                busy=schedule.bookings.of(schedule.provider_id, day_lo, day_hi),
                minutes=minutes,
                earliest=lo,
                latest=latest,
            ):
                if slot.start < hi:
                    yield slot
        day += timedelta(days=1)


def availability_search(
    *, product_id: int, start: RangeBound, end: RangeBound, minutes: int, now: datetime
) -> Iterator[ProviderSlot]:
    """Every free slot of every provider offering the product, starting between `start` and `end`
    (dates: days in each provider's zone, `end` included), by start and then provider id.

    The rows are read at once (a fixed number of queries); the slots are worked out as they are
    taken, each provider's stream merged with the others', so a first page costs about one day
    of each provider's, not the whole range.
    """
    problems = span_problems(start, end, now=now) | duration_problems(minutes)
    if problems:
        raise errors.InvalidInput(problems)
    service_on_sale(product_id=product_id)
    providers = providers_offering(product_id=product_id)
    if not providers:
        return iter(())
    zones = [selectors.provider_zone(provider) for provider in providers]
    lo = min(local_bound(start, tz, end=False) for tz in zones)
    hi = max(local_bound(end, tz, end=True) for tz in zones)
    earliest, latest = rules.earliest_start(now), rules.latest_start(now)
    schedules = provider_schedules(
        providers=providers, start=max(lo, earliest), end=min(hi, latest) + timedelta(minutes=minutes)
    )
    streams = [
        _provider_slots(
            schedule,
            schedule_slots(
                schedule,
                start=local_bound(start, schedule.tz, end=False),
                end=local_bound(end, schedule.tz, end=True),
                minutes=minutes,
                earliest=earliest,
                latest=latest,
            ),
        )
        for schedule in schedules
    ]
    return heapq.merge(*streams, key=lambda slot: (slot.start, slot.provider_id))


def _provider_slots(schedule: ProviderSchedule, slots: Iterator[rules.Interval]) -> Iterator[ProviderSlot]:
    for slot in slots:
        yield ProviderSlot(schedule.provider_id, schedule.name, schedule.tz, slot.start, slot.end)


def first_free_slots(*, product_id: int, minutes: int, now: datetime) -> list[ProviderFirstSlot]:
    """Each provider offering the product with their earliest free slot up to the booking horizon
    (None without one), the soonest first (then by provider id), those without last."""
    if problems := duration_problems(minutes):
        raise errors.InvalidInput(problems)
    service_on_sale(product_id=product_id)
    providers = providers_offering(product_id=product_id)
    earliest, latest = rules.earliest_start(now), rules.latest_start(now)
    first: dict[int, rules.Interval | None] = {provider.pk: None for provider in providers}
    about: dict[int, tuple[str, ZoneInfo]] = {}
    # Up to the horizon at once (they are few): a provider with no weekly hours but changed hours
    # on a date far ahead is known from the first step.
    exceptions = exceptions_by_provider(provider_ids=[p.pk for p in providers], start=earliest, end=latest)
    waiting, lo = providers, earliest
    for step in (*NEXT_SLOT_STEPS, None):
        hi = latest if step is None else min(lo + step, latest)
        looking: set[int] = set()
        schedules = provider_schedules(
            providers=waiting, start=lo, end=hi + timedelta(minutes=minutes), exceptions=exceptions
        )
        for schedule in schedules:
            about[schedule.provider_id] = (schedule.name, schedule.tz)
            if not schedule.may_work:
                continue  # no working hours: no slot however far ahead
            slot = next(
                schedule_slots(schedule, start=lo, end=hi, minutes=minutes, earliest=earliest, latest=latest),
                None,
            )
            if slot is not None:
                first[schedule.provider_id] = slot
            else:
                looking.add(schedule.provider_id)
        if not looking or hi >= latest:
            break
        waiting, lo = [p for p in waiting if p.pk in looking], hi
    entries = [ProviderFirstSlot(pk, *about[pk], first[pk]) for pk in first]
    never = datetime.max.replace(tzinfo=UTC)
    entries.sort(key=lambda e: (e.slot.start if e.slot is not None else never, e.provider_id))
    return entries
