"""A provider's weekly schedule: their time zone and working hours, replaced as a whole."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import time
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.bookings.constraints import HOURS_OVERLAP, violated_constraint
from apps.bookings.models import ProviderProfile, Weekday, WorkingHours, validate_time_zone
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_INTERVALS = 70  # ten a day
# Intervals never cross midnight (see the README's Rules); this says how to give a night shift.
SAME_DAY_ONLY = _(
    "The end must be after the start, on the same day. For hours past midnight give two intervals: "
    "until 23:59 on one day and from 00:00 on the next."
)


def provider_profile_for(user: User, *, lock: bool = False) -> ProviderProfile:
    """The user's provider profile, created (in the zone UTC) the first time it is asked for."""
    profile, _created = ProviderProfile.objects.get_or_create(user=user)
    if lock:
        profile = ProviderProfile.objects.select_for_update().get(pk=profile.pk)
    return profile


def _label(row: Mapping[str, Any]) -> str:
    return f"{Weekday(row['weekday']).label} {row['start']:%H:%M}-{row['end']:%H:%M}"


def working_hours_check(intervals: list[dict[str, Any]]) -> None:
    """InvalidInput with the errors keyed by list position (`intervals.2.end`): bad times, too many,
    overlaps."""
    if len(intervals) > MAX_INTERVALS:
        raise errors.InvalidInput(
            {"intervals": [_("At most %(n)d intervals a week.") % {"n": MAX_INTERVALS}]}
        )
    problems: dict[str, list[StrOrPromise]] = {}
    for index, row in enumerate(intervals):
        row_problems: dict[str, list[StrOrPromise]] = {}
        for name in ("start", "end"):
            value: time = row[name]
            if value.second or value.microsecond:
                row_problems[name] = [_("Whole minutes only (HH:MM).")]
        if not row_problems and not row["start"] < row["end"]:
            row_problems["end"] = [SAME_DAY_ONLY]
        for name, messages in row_problems.items():
            problems[f"intervals.{index}.{name}"] = messages
    if problems:
        raise errors.InvalidInput(problems)
    by_day = defaultdict(list)
    for index, row in enumerate(intervals):
        by_day[row["weekday"]].append((row["start"], row["end"], index))
    overlaps: dict[int, list[StrOrPromise]] = {}
    for rows in by_day.values():
        rows.sort()
        for (_start, end, first), (next_start, _end, second) in pairwise(rows):
            if next_start < end:
                overlaps[second] = [
                    _("Overlaps %(other)s.") % {"other": _label(intervals[first])},
                ]
    if overlaps:
        raise errors.InvalidInput({f"intervals.{index}": overlaps[index] for index in sorted(overlaps)})


@transaction.atomic
def working_hours_replace(
    *,
    provider: User,
    intervals: list[dict[str, Any]],
    time_zone: str | None = None,
    actor: User | None = None,
    request: HttpRequest | Request | None = None,
) -> ProviderProfile:
    """Replace the provider's whole weekly schedule (and, given, their time zone) at once.

    The profile row is locked first, so two replacements of one schedule run one after the other
    and the overlap check reads what the other committed. Existing bookings are left as they are.
    """
    if time_zone is not None:
        try:
            validate_time_zone(time_zone)
        except DjangoValidationError as exc:
            raise errors.InvalidInput({"time_zone": exc.messages}) from exc
    working_hours_check(intervals)
    profile = provider_profile_for(provider, lock=True)
    before = {
        "time_zone": profile.time_zone,
        "intervals": [_label(row) for row in profile.working_hours.order_by("weekday", "start").values()],
    }
    if time_zone is not None and time_zone != profile.time_zone:
        profile.time_zone = time_zone
        profile.save(update_fields=["time_zone", "updated_at"])
    profile.working_hours.all().delete()
    rows = [
        WorkingHours(provider=profile, weekday=row["weekday"], start=row["start"], end=row["end"])
        for row in sorted(intervals, key=lambda row: (row["weekday"], row["start"]))
    ]
    try:
        with transaction.atomic():
            WorkingHours.objects.bulk_create(rows)
    except IntegrityError as exc:  # the exclusion constraint: only if the check above was bypassed
        if violated_constraint(exc) == HOURS_OVERLAP:
            raise errors.Conflict(_("Working hours overlap.")) from exc
        raise
    after = {"time_zone": profile.time_zone, "intervals": [_label(row.__dict__) for row in rows]}
    changes = diff(before, after)
    audit(action="working_hours.replace", actor=actor, target=profile, changes=changes, request=request)
    return profile


@transaction.atomic
def provider_schedule_erase(*, user: User) -> int:
    """An erased account offers nothing: its working hours and offered products go; how many hours.
    The profile itself (its time zone) stays, so the bookings it kept still read in their zone."""
    deleted, _ = WorkingHours.objects.filter(provider_id=user.pk).delete()
    profile = ProviderProfile.objects.filter(user_id=user.pk).first()
    if profile is not None:
        profile.products.clear()
    return deleted
