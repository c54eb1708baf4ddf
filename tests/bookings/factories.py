"""Providers, schedules and bookings for the booking tests."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.utils import timezone

from apps.bookings.models import Booking, ProviderProfile, WorkingHours

LONDON = "Europe/London"
_numbers = count(1)
EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def role(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


def new_user(**fields):
    from apps.accounts.models import User

    n = next(_numbers)
    fields.setdefault("email", f"booker{n}@example.com")
    fields.setdefault("username", f"booker{n}")
    fields.setdefault("full_name", f"Person {n}")
    return User.objects.create_user(password="correct-horse-battery-staple", **fields)


def new_provider(*, time_zone: str = LONDON, hours=EVERY_DAY, products=(), user=None, **fields):
    """A user in the provider role with a profile in `time_zone` and weekly `hours`
    (`(weekday, "HH:MM", "HH:MM")`, every day 09:00-17:00 unless given)."""
    user = user or new_user(**fields)
    user.groups.add(role("provider"))
    profile = ProviderProfile.objects.create(user=user, time_zone=time_zone)
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=profile, weekday=weekday, start=_clock(start), end=_clock(end))
        for weekday, start, end in hours
    )
    profile.products.set(products)
    return user


def new_customer(**fields):
    user = new_user(**fields)
    user.groups.add(role("customer"))
    return user


def local(day: date, clock: str, zone: str = LONDON) -> datetime:
    return datetime.combine(day, _clock(clock), tzinfo=ZoneInfo(zone))


def days_ahead(n: int = 3, zone: str = LONDON) -> date:
    return timezone.now().astimezone(ZoneInfo(zone)).date() + timedelta(days=n)


def utc_text(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_booking(*, customer, provider, start: datetime, minutes: int = 60, status="pending", **fields):
    """A booking written straight to the table, past the rules (for times in the past, say)."""
    if status == "cancelled":
        fields.setdefault("cancelled_at", timezone.now())
    return Booking.objects.create(
        customer=customer,
        provider=provider,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        **fields,
    )


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_last_sunday(month: int) -> date:
    """The next last Sunday of `month` (March: clocks go forward in Europe; October: back) at
    least two days away."""
    today = timezone.now().date()
    for year in (today.year, today.year + 1):
        day = last_sunday(year, month)
        if day > today + timedelta(days=2):
            return day
    raise AssertionError("unreachable")
