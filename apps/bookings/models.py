"""Bookings: providers' weekly schedules and the time customers book with them.

A provider is a user in the `provider` role. Their `ProviderProfile` (primary key: the user's id)
holds the IANA time zone their working hours are read in and the products they offer (the API calls
a booked product the booking's `service`); `WorkingHours` rows are their weekly schedule,
wall-clock intervals in that zone. A `ScheduleException` replaces them on the days it covers: a
day off, a holiday, or other hours.

A `Booking` is stored in UTC. Every rule that can be a database constraint is one: end after
start, cancellation fields that match the status, bounded notes, a customer who is not the
provider. The rule that matters most, that no provider (and no customer) holds two overlapping
active bookings, is an exclusion constraint on PostgreSQL (see `constraints.py` and migration
0002); on SQLite the service checks it inside the write transaction, which SQLite's IMMEDIATE
transactions serialise.
"""

from datetime import time
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from apps.core.models import TimeStampedModel

NOTES_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500
MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 8 * 60


# The geographic areas of the IANA names (`Area/Location`). Left out: `Etc/` (whose `GMT+5` is
# five hours *behind*), and the old country folders (`US/Eastern`, `Canada/Pacific`).
TIME_ZONE_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


@cache
def time_zone_names() -> frozenset[str]:
    """The time zones a provider may choose: canonical IANA names and `UTC`.

    zoneinfo also knows names that are not places: `localtime` and `posixrules` (whatever the
    server is set to), `Factory`, POSIX rules (`EST5EDT`), `Etc/GMT+5`, and aliases kept only so
    that old data still loads (`US/Eastern`, `Asia/Calcutta`, `Europe/Kiev`, `Australia/NSW`).
    A name must have the `Area/Location` form, and, where the time zone database ships its
    `zone.tab` (the table of zones by country that time zone pickers show), be listed there; the
    aliases are not. Without a `zone.tab` only the form is checked.
    """
    import zoneinfo

    known = zoneinfo.available_timezones()
    names = {name for name in known if "/" in name and name.split("/", 1)[0] in TIME_ZONE_AREAS}
    listed = _zone_tab_names()
    if listed:
        names &= listed
    return frozenset(names | ({"UTC"} & known))


def _zone_tab_names() -> frozenset[str]:
    import contextlib
    import zoneinfo
    from importlib import resources
    from pathlib import Path

    # Where zoneinfo itself looks: the system's TZPATH first, then the tzdata package.
    candidates = [Path(directory) / "zone.tab" for directory in zoneinfo.TZPATH]
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(resources.files("tzdata.zoneinfo") / "zone.tab")
    for candidate in candidates:
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError:
            continue
        return frozenset(
            line.split("\t")[2].strip() for line in text.splitlines() if line and not line.startswith("#")
        )
    return frozenset()


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "Not a canonical IANA time zone: give one such as Europe/London, America/New_York or UTC "
            "(old aliases such as US/Eastern or Asia/Calcutta are refused: use the current name).",
            code="invalid",
        )


class ProviderProfile(TimeStampedModel):
    """What bookings need to know about a provider: their time zone and the products they offer."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="provider_profile",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone the working hours are read in, e.g. Europe/London.",
    )
    products = models.ManyToManyField(
        "products.Product", blank=True, related_name="providers", help_text="The products they offer."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(time_zone=""), name="bookings_profile_time_zone_not_empty"),
        ]
        # Giving (and taking) the provider role with the profile: staff's, where
        # `change_providerprofile` is a provider's own (providers/me/).
        permissions = [("manage_providers", "Can make users providers and stop them being providers")]

    def __str__(self) -> str:
        return f"Provider {self.user}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One interval of a provider's week, in wall-clock time of their zone: `[start, end)`.

    Several a day are allowed, never overlapping (checked by the service under a lock on the
    profile; on PostgreSQL also by an exclusion constraint). `provider_id` is the user's id: the
    profile's primary key is.
    """

    provider = models.ForeignKey(ProviderProfile, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        verbose_name = "working hours"
        verbose_name_plural = "working hours"
        ordering = ["provider", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="bookings_hours_start_before_end"),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="bookings_hours_weekday_range"
            ),
        ]
        indexes = [models.Index(fields=["provider", "weekday", "start"], name="bookings_hours_idx")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


# A booking holds its time while it is one of these.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class Booking(TimeStampedModel):
    Status = BookingStatus

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_bookings"
    )
    # The API's `service`: what is booked, if anything.
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The product's price when the booking was made; empty without a product.",
    )
    notes = models.TextField(max_length=NOTES_MAX_LENGTH, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancellation_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    # The reminder for the current start has been queued (cleared when the booking moves).
    reminder_queued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="bookings_booking_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(customer=F("provider")), name="bookings_booking_customer_is_not_provider"
            ),
            # Cancelled exactly when there is a cancellation time; nothing else carries one.
            models.CheckConstraint(
                condition=(Q(status=BookingStatus.CANCELLED) & Q(cancelled_at__isnull=False))
                | (
                    ~Q(status=BookingStatus.CANCELLED)
                    & Q(cancelled_at__isnull=True)
                    & Q(cancelled_by__isnull=True)
                    & Q(cancellation_reason="")
                ),
                name="bookings_booking_cancellation_matches_status",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), NOTES_MAX_LENGTH),
                name="bookings_booking_notes_length",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("cancellation_reason"), REASON_MAX_LENGTH),
                name="bookings_booking_reason_length",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="bookings_booking_price_not_negative"
            ),
        ]
        # Lists: a participant's bookings by start, everyone's by status; availability: a
        # provider's bookings near a day (start within the day, minus the longest duration).
        indexes = [
            models.Index(fields=["provider", "start"], name="bookings_provider_start_idx"),
            models.Index(fields=["customer", "start"], name="bookings_customer_start_idx"),
            models.Index(fields=["status", "start"], name="bookings_status_start_idx"),
            models.Index(fields=["-start", "-id"], name="bookings_start_idx"),
        ]
        permissions = [
            ("view_all_bookings", "Can view every booking"),
            ("confirm_booking", "Can confirm bookings"),
        ]

    def __str__(self) -> str:
        return f"Booking {self.pk} ({self.start:%Y-%m-%d %H:%M} UTC, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class ExceptionKind(models.TextChoices):
    DAY_OFF = "day_off", "Day off"
    HOLIDAY = "holiday", "Holiday"
    HOURS = "hours", "Changed hours"


# A provider is off on these: no working hours at all.
OFF_KINDS = (ExceptionKind.DAY_OFF, ExceptionKind.HOLIDAY)
EXCEPTION_NOTE_MAX_LENGTH = 200
EXCEPTION_MAX_DAYS = 366


class ScheduleException(TimeStampedModel):
    """Days, `start_date` to `end_date` inclusive, on which the weekly hours do not apply: the
    provider is off (`day_off`, `holiday`), or works `intervals` instead (`hours`: the same
    wall-clock intervals on every day of the range, `[{"start": "HH:MM", "end": "HH:MM"}, …]`).

    A day is in at most one exception of a provider: checked by the service under a lock on the
    profile, and on PostgreSQL by an exclusion constraint over the date ranges (migration 0004).
    """

    Kind = ExceptionKind

    provider = models.ForeignKey(
        ProviderProfile, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    start_date = models.DateField(help_text="The first day, in the provider's zone.")
    end_date = models.DateField(help_text="The last day (inclusive); the first day for a single day.")
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    intervals = models.JSONField(
        default=list,
        blank=True,
        help_text='The hours of each day for "changed hours": [{"start": "HH:MM", "end": "HH:MM"}, …].',
    )
    note = models.CharField(max_length=EXCEPTION_NOTE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["provider", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="bookings_exception_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="bookings_exception_kind_known"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("note"), EXCEPTION_NOTE_MAX_LENGTH),
                name="bookings_exception_note_length",
            ),
            # Every database: no two exceptions of a provider start on one day (overlaps in general:
            # the service, and PostgreSQL's exclusion constraint).
            models.UniqueConstraint(
                fields=["provider", "start_date"], name="bookings_exception_one_per_start"
            ),
        ]

    def __str__(self) -> str:
        days = f"{self.start_date}"
        if self.end_date != self.start_date:
            days += f" to {self.end_date}"
        return f"{self.get_kind_display()} {days}"

    @property
    def is_off(self) -> bool:
        return self.kind in OFF_KINDS

    def covers(self, day) -> bool:
        return self.start_date <= day <= self.end_date

    def clock_intervals(self) -> list[tuple[time, time]]:
        """`intervals` as wall-clock times (none on a day off)."""
        if self.is_off:
            return []
        return [(time.fromisoformat(row["start"]), time.fromisoformat(row["end"])) for row in self.intervals]
