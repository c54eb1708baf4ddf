"""Booking reads: who is a provider, whose bookings a user sees, and what a provider's day holds."""

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.accounts.models import User
from apps.bookings.models import (
    ACTIVE_STATUSES,
    EXCEPTION_MAX_DAYS,
    MAX_DURATION_MINUTES,
    Booking,
    ProviderProfile,
    ScheduleException,
    WorkingHours,
)
from apps.bookings.rules import Interval
from apps.products.models import Product
from apps.products.selectors import products_on_sale
from apps.roles.selectors import holds_role, users_with_role
from apps.roles.spec import SystemRole

VIEW_ALL = "bookings.view_all_bookings"
MANAGE_PROVIDERS = "bookings.manage_providers"  # staff: POST providers/, DELETE providers/{id}/


def _active_products() -> QuerySet[Product]:
    return products_on_sale().order_by("name", "id")


def provider_list() -> "QuerySet[User]":
    """Active users in the provider role, each with their profile and the active products they offer
    (one query for the page, one for every provider's products)."""
    return (
        users_with_role(SystemRole.PROVIDER)
        .select_related("provider_profile")
        .prefetch_related(Prefetch("provider_profile__products", queryset=_active_products()))
        .order_by("id")
    )


def provider_with_hours(*, provider_id: int, day: date | None = None) -> User | None:
    """The active provider `provider_id` with their profile and whole weekly schedule, or None.

    Given a `day`, the exception that covers it (if any) comes along in the same query, as
    `day_exceptions` (a list of at most one, for `rules.working_windows(..., exceptions=)`):
    availability answers in three queries, not four.
    """
    providers = (
        users_with_role(SystemRole.PROVIDER)
        .filter(pk=provider_id)
        .select_related("provider_profile")
        .prefetch_related(Prefetch("provider_profile__working_hours", queryset=WorkingHours.objects.all()))
    )
    if day is None:
        return providers.first()
    covering = ScheduleException.objects.filter(
        provider_id=OuterRef("pk"), start_date__lte=day, end_date__gte=day
    ).order_by("start_date")
    provider = providers.annotate(
        day_exception_kind=Subquery(covering.values("kind")[:1]),
        day_exception_intervals=Subquery(covering.values("intervals")[:1], output_field=JSONField()),
    ).first()
    if provider is not None:
        kind, intervals = provider.day_exception_kind, provider.day_exception_intervals
        if isinstance(intervals, str):  # SQLite hands a subquery's JSON back as text
            intervals = json.loads(intervals)
        # Carried on the row like a prefetch (the user model declares no such field).
        setattr(  # noqa: B010
            provider,
            "day_exceptions",
            [ScheduleException(start_date=day, end_date=day, kind=kind, intervals=intervals or [])]
            if kind is not None
            else [],
        )
    return provider


def is_provider(user: "User | AnonymousUser | None") -> bool:
    return holds_role(user, SystemRole.PROVIDER)


def provider_zone(user: "User") -> ZoneInfo:
    profile = getattr(user, "provider_profile", None)
    return ZoneInfo(profile.time_zone if profile is not None else settings.TIME_ZONE)


def provider_hours(user: "User") -> list[WorkingHours]:
    profile = getattr(user, "provider_profile", None)
    return list(profile.working_hours.all()) if profile is not None else []


def working_hours_of(*, profile: ProviderProfile | None) -> QuerySet[WorkingHours]:
    if profile is None:
        return WorkingHours.objects.none()
    return WorkingHours.objects.filter(provider=profile).order_by("weekday", "start")


def _exceptions_between(first: date, last: date) -> QuerySet[ScheduleException]:
    # No exception spans more than EXCEPTION_MAX_DAYS, so one that covers `first` starts at most
    # that long before: a bounded range of the (provider, start_date) index.
    return ScheduleException.objects.filter(
        start_date__gte=first - timedelta(days=EXCEPTION_MAX_DAYS),
        start_date__lte=last,
        end_date__gte=first,
    ).order_by("start_date")


def schedule_exceptions_between(*, provider_id: int, first: date, last: date) -> list[ScheduleException]:
    """The provider's exceptions that cover a day of `first`..`last` (inclusive), in one query:
    what `rules.working_windows(..., exceptions=)` reads for those days."""
    return list(_exceptions_between(first, last).filter(provider_id=provider_id))


def schedule_exceptions_by_provider(
    *, provider_ids: Iterable[int], first: date, last: date
) -> dict[int, list[ScheduleException]]:
    """`schedule_exceptions_between` for many providers in one query, by provider id (a provider
    without any is missing from the mapping)."""
    found: dict[int, list[ScheduleException]] = defaultdict(list)
    for exception in _exceptions_between(first, last).filter(provider_id__in=list(provider_ids)):
        found[exception.provider_id].append(exception)
    return dict(found)


def schedule_exception_list(*, provider_id: int) -> QuerySet[ScheduleException]:
    """A provider's exceptions, soonest first (the profile's key is the user's id)."""
    return ScheduleException.objects.filter(provider_id=provider_id).order_by("start_date", "id")


def bookings_between(*, provider_id: int, start: datetime, end: datetime) -> QuerySet[Booking]:
    """The provider's active bookings overlapping `[start, end)`, soonest first, with their
    customer and product."""
    return (
        overlapping(start=start, end=end)
        .filter(provider_id=provider_id)
        .select_related("customer", "product")
        .order_by("start", "id")
    )


def busy_intervals(*, provider_id: int, start: datetime, end: datetime) -> list[Interval]:
    """The provider's active bookings that overlap `[start, end)`.

    No booking lasts longer than MAX_DURATION_MINUTES, so an overlapping one starts at most that
    long before `start`: a bounded range of the (provider, start) index, not every earlier row.
    """
    rows = Booking.objects.filter(
        provider_id=provider_id,
        status__in=ACTIVE_STATUSES,
        start__gte=start - timedelta(minutes=MAX_DURATION_MINUTES),
        start__lt=end,
        end__gt=start,
    ).values_list("start", "end")
    return [Interval(lo, hi) for lo, hi in rows]


def sees_all_bookings(user: "User | AnonymousUser") -> bool:
    return user.has_perm(VIEW_ALL)


def booking_list(*, user: "User") -> QuerySet[Booking]:
    """The bookings `user` may see: their own as customer or provider; everyone's with
    `bookings.view_all_bookings`. Each row comes with everything it is rendered with."""
    bookings = Booking.objects.select_related(
        "customer", "provider", "provider__provider_profile", "product"
    ).order_by("-start", "-id")
    if sees_all_bookings(user):
        return bookings
    return bookings.filter(Q(customer=user) | Q(provider=user))


def overlapping(*, start: datetime, end: datetime, exclude_pk: int | None = None) -> QuerySet[Booking]:
    """Active bookings overlapping `[start, end)` (narrow with provider or customer)."""
    rows = Booking.objects.filter(
        status__in=ACTIVE_STATUSES,
        start__gte=start - timedelta(minutes=MAX_DURATION_MINUTES),
        start__lt=end,
        end__gt=start,
    )
    return rows.exclude(pk=exclude_pk) if exclude_pk is not None else rows


def provider_detail(*, provider_id: int) -> User | None:
    """The active provider `provider_id` as `provider_list` renders them, or None."""
    return provider_list().filter(pk=provider_id).first()


def offered_service_ids(*, profile: ProviderProfile) -> list[int]:
    """The ids of the products on sale that the provider offers, sorted."""
    return sorted(products_on_sale(profile.products.all()).values_list("pk", flat=True))


def upcoming_bookings(*, provider_id: int, now: datetime) -> QuerySet[Booking]:
    """The provider's pending and confirmed bookings that have not ended by `now`."""
    return Booking.objects.filter(provider_id=provider_id, status__in=ACTIVE_STATUSES, end__gt=now)


def provider_profiles() -> QuerySet[ProviderProfile]:
    """Every profile with its user, and `is_provider`: whether the user is an active provider now (a
    former provider keeps their profile)."""
    holds = users_with_role(SystemRole.PROVIDER).filter(pk=OuterRef("user_id"))
    return ProviderProfile.objects.select_related("user").annotate(is_provider=Exists(holds))
