"""Explicit fields only. Reads are rendered by hand (they run for every row of a list); writes take
exactly the JSON types the schema names and hand the values to the services, which hold the rules."""

import re
from datetime import UTC

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from apps.bookings.models import (
    EXCEPTION_MAX_DAYS,
    EXCEPTION_NOTE_MAX_LENGTH,
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    NOTES_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Booking,
    BookingStatus,
    ExceptionKind,
    ScheduleException,
    Weekday,
)
from apps.bookings.selectors import provider_zone
from apps.bookings.services.providers import MAX_SERVICES
from apps.bookings.services.schedule import MAX_INTERVALS
from apps.bookings.services.schedule_exceptions import MAX_EXCEPTION_INTERVALS
from apps.core import fields

_PRICE = serializers.DecimalField(max_digits=10, decimal_places=2)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time *with* its UTC offset (`…Z`, `…+01:00`), as UTC. A time without
    an offset is refused: whose 09:00 would it be?"""

    default_error_messages = {
        "invalid": _("Give an ISO 8601 date and time, e.g. 2030-01-31T09:00:00+01:00."),
        "naive": _("Give the time with its UTC offset, e.g. 2030-01-31T09:00:00+01:00 or …Z."),
        "range": _("This date and time is out of range."),
    }

    def to_internal_value(self, value):
        if not isinstance(value, str) or len(value) > 64:
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            self.fail("range")


class ClockTimeField(serializers.TimeField):
    """`HH:MM` (seconds, if given, must be zero), rendered `HH:MM`."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


# --- Reads ----------------------------------------------------------------------------------------------
class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = fields.CharField(read_only=True, help_text="Full name, or the username without one.")

    class Meta:
        ref_name = "BookingParty"


class ServiceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = fields.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)

    class Meta:
        ref_name = "ServiceSummary"


def _party(user) -> dict:
    return {"id": user.pk, "name": user.get_full_name()}


@extend_schema_serializer(
    description="A booking: who, with whom, when (in UTC and in the provider's zone), and its status."
)
class BookingSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer = PartySerializer(read_only=True)
    provider = PartySerializer(read_only=True)
    service = ServiceSummarySerializer(
        source="product", read_only=True, allow_null=True, help_text="As it is now; null without."
    )
    start = serializers.DateTimeField(read_only=True, help_text="UTC.")
    end = serializers.DateTimeField(read_only=True, help_text="UTC.")
    duration_minutes = serializers.IntegerField(read_only=True)
    time_zone = fields.CharField(read_only=True, help_text="The provider's IANA time zone.")
    local_start = serializers.DateTimeField(read_only=True, help_text="`start` in the provider's zone.")
    local_end = serializers.DateTimeField(read_only=True, help_text="`end` in the provider's zone.")
    status = serializers.ChoiceField(choices=BookingStatus.choices, read_only=True)
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="The service's price when the booking was made; null without a service.",
    )
    notes = fields.CharField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_by = serializers.IntegerField(read_only=True, allow_null=True, help_text="A user id.")
    cancellation_reason = fields.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "Booking"

    def to_representation(self, booking: Booking) -> dict:
        tz = provider_zone(booking.provider)
        product = booking.product
        return {
            "id": booking.pk,
            "customer": _party(booking.customer),
            "provider": _party(booking.provider),
            "service": (
                {"id": product.pk, "name": product.name, "price": _PRICE.to_representation(product.price)}
                if product is not None
                else None
            ),
            "start": self.datetime_text(booking.start),
            "end": self.datetime_text(booking.end),
            "duration_minutes": booking.duration_minutes,
            "time_zone": tz.key,
            "local_start": booking.start.astimezone(tz).isoformat(),
            "local_end": booking.end.astimezone(tz).isoformat(),
            "status": booking.status,
            "price": _PRICE.to_representation(booking.price) if booking.price is not None else None,
            "notes": booking.notes,
            "cancelled_at": self.datetime_text(booking.cancelled_at),
            "cancelled_by": booking.cancelled_by_id,
            "cancellation_reason": booking.cancellation_reason,
            "created_at": self.datetime_text(booking.created_at),
            "updated_at": self.datetime_text(booking.updated_at),
        }


class ProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="The provider's user id.")
    name = fields.CharField(read_only=True)
    time_zone = fields.CharField(read_only=True)
    services = ServiceSummarySerializer(
        source="provider_profile.products", many=True, read_only=True, help_text="Active services they offer."
    )

    class Meta:
        ref_name = "Provider"

    def to_representation(self, user) -> dict:
        profile = getattr(user, "provider_profile", None)
        products = list(profile.products.all()) if profile is not None else []
        return {
            "id": user.pk,
            "name": user.get_full_name(),
            "time_zone": provider_zone(user).key,
            "services": [
                {"id": p.pk, "name": p.name, "price": _PRICE.to_representation(p.price)} for p in products
            ],
        }


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(read_only=True, help_text="In the provider's zone, with its offset.")
    end = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "Slot"


class AvailabilitySerializer(serializers.Serializer):
    provider = serializers.IntegerField(read_only=True)
    date = serializers.DateField(read_only=True)
    time_zone = fields.CharField(read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)
    slots = SlotSerializer(many=True, read_only=True)

    class Meta:
        ref_name = "Availability"


class IntervalSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 is Monday, 6 is Sunday.")
    start = ClockTimeField(help_text="Wall-clock time in the provider's zone, `HH:MM`.")
    end = ClockTimeField(help_text="After `start`, on the same day (`23:59` at the latest).")

    class Meta:
        ref_name = "WorkingInterval"

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("weekday"), bool | str | float):
            raise serializers.ValidationError({"weekday": [_("An integer from 0 (Monday) to 6 (Sunday).")]})
        return super().to_internal_value(data)


class WorkingHoursSerializer(serializers.Serializer):
    time_zone = fields.CharField(
        max_length=64,
        help_text=(
            "Canonical IANA time zone (Area/Location, e.g. Europe/London) or UTC; left out: unchanged "
            "(UTC at first)."
        ),
    )
    intervals = IntervalSerializer(many=True, max_length=MAX_INTERVALS, allow_empty=True)

    class Meta:
        ref_name = "WorkingHours"

    def to_internal_value(self, data):
        # Before any item is read, and under the field's own name.
        intervals = data.get("intervals") if isinstance(data, dict) else None
        if isinstance(intervals, list) and len(intervals) > MAX_INTERVALS:
            raise serializers.ValidationError(
                {"intervals": [_("At most %(n)d intervals a week.") % {"n": MAX_INTERVALS}]}
            )
        return super().to_internal_value(data)


class WorkingHoursWriteSerializer(WorkingHoursSerializer):
    time_zone = fields.CharField(
        max_length=64,
        required=False,
        help_text=(
            "Canonical IANA time zone (Area/Location, e.g. Europe/London) or UTC; left out: unchanged "
            "(UTC at first)."
        ),
    )

    class Meta:
        ref_name = "WorkingHours"  # only ever a request: `WorkingHoursRequest`


def working_hours_representation(profile, rows) -> dict:
    return {
        "time_zone": profile.time_zone if profile is not None else "UTC",
        "intervals": [
            {"weekday": row.weekday, "start": f"{row.start:%H:%M}", "end": f"{row.end:%H:%M}"} for row in rows
        ],
    }


class DayField(serializers.DateField):
    """`YYYY-MM-DD`, a JSON string and nothing else."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class ExceptionIntervalSerializer(serializers.Serializer):
    start = ClockTimeField(help_text="Wall-clock time in the provider's zone, `HH:MM`.")
    end = ClockTimeField(
        help_text=(
            "After `start`, on the same day (`23:59` at the latest); hours past midnight are two "
            "intervals, one on each day."
        )
    )

    class Meta:
        ref_name = "ExceptionInterval"


@extend_schema_serializer(
    description=(
        "Days on which the weekly hours do not apply: the provider is off (`day_off`, `holiday`) or "
        "works `intervals` instead (`hours`)."
    )
)
class ScheduleExceptionSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    start_date = serializers.DateField(read_only=True, help_text="The first day, in the provider's zone.")
    end_date = serializers.DateField(read_only=True, help_text="The last day (inclusive).")
    kind = serializers.ChoiceField(choices=ExceptionKind.choices, read_only=True)
    intervals = ExceptionIntervalSerializer(
        many=True, read_only=True, help_text="The hours of each day for `hours`; empty otherwise."
    )
    note = fields.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "ScheduleException"

    def to_representation(self, exception: ScheduleException) -> dict:
        return {
            "id": exception.pk,
            "start_date": exception.start_date.isoformat(),
            "end_date": exception.end_date.isoformat(),
            "kind": exception.kind,
            "intervals": [{"start": row["start"], "end": row["end"]} for row in exception.intervals],
            "note": exception.note,
            "created_at": self.datetime_text(exception.created_at),
            "updated_at": self.datetime_text(exception.updated_at),
        }


class ConflictingBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer = PartySerializer(read_only=True)
    start = serializers.DateTimeField(read_only=True, help_text="UTC.")
    end = serializers.DateTimeField(read_only=True, help_text="UTC.")
    local_start = serializers.DateTimeField(read_only=True, help_text="`start` in the provider's zone.")
    local_end = serializers.DateTimeField(read_only=True, help_text="`end` in the provider's zone.")
    status = serializers.ChoiceField(choices=BookingStatus.choices, read_only=True)

    class Meta:
        ref_name = "ConflictingBooking"


class ScheduleExceptionSavedSerializer(ScheduleExceptionSerializer):
    conflicting_bookings = ConflictingBookingSerializer(
        many=True,
        read_only=True,
        help_text=(
            "Your active bookings, not yet ended, that fall outside working time on these days. They are "
            "not cancelled: cancel or move them (you are also sent a message listing them)."
        ),
    )

    class Meta:
        ref_name = "ScheduleExceptionSaved"

    def to_representation(self, saved) -> dict:
        body = super().to_representation(saved.exception)
        tz = provider_zone(saved.exception.provider.user)
        body["conflicting_bookings"] = [
            {
                "id": booking.pk,
                "customer": _party(booking.customer),
                "start": self.datetime_text(booking.start),
                "end": self.datetime_text(booking.end),
                "local_start": booking.start.astimezone(tz).isoformat(),
                "local_end": booking.end.astimezone(tz).isoformat(),
                "status": booking.status,
            }
            for booking in saved.conflicts
        ]
        return body


class ScheduleExceptionWriteSerializer(serializers.Serializer):
    start_date = DayField(help_text="`YYYY-MM-DD`, the first day, in your zone.")
    end_date = DayField(
        required=False,
        help_text=f"The last day (inclusive); the first when left out. At most {EXCEPTION_MAX_DAYS} days.",
    )
    kind = serializers.ChoiceField(choices=ExceptionKind.choices)
    intervals = ExceptionIntervalSerializer(
        many=True,
        required=False,
        max_length=MAX_EXCEPTION_INTERVALS,
        help_text="For `hours` only (required there): that day's hours, several allowed, never overlapping.",
    )
    note = fields.CharField(max_length=EXCEPTION_NOTE_MAX_LENGTH, required=False, allow_blank=True)

    class Meta:
        ref_name = "ScheduleExceptionCreate"


class ScheduleExceptionUpdateSerializer(ScheduleExceptionWriteSerializer):
    start_date = DayField(required=False, help_text="`YYYY-MM-DD`; the last day follows it unless given.")
    kind = serializers.ChoiceField(choices=ExceptionKind.choices, required=False)

    class Meta:
        ref_name = "ScheduleExceptionUpdate"


# --- Writes ---------------------------------------------------------------------------------------------
_TIME_ZONE_HELP = "Canonical IANA time zone (Area/Location, e.g. Europe/London) or UTC; left out: unchanged."


def _services_field(**kwargs):
    return serializers.ListField(
        child=fields.IdField(),
        max_length=MAX_SERVICES,
        allow_empty=True,
        help_text=(
            "Ids of products on sale: the services offered, replacing the list (a product offered "
            "before that is now off sale stays attached, unseen); left out: unchanged."
        ),
        **kwargs,
    )


class ProviderCreateSerializer(serializers.Serializer):
    user = fields.IdField(help_text="The id of the active user who becomes a provider.")
    time_zone = fields.CharField(max_length=64, required=False, help_text=_TIME_ZONE_HELP + " UTC at first.")
    services = _services_field(required=False)

    class Meta:
        ref_name = "ProviderCreate"


class ProviderProfileUpdateSerializer(serializers.Serializer):
    time_zone = fields.CharField(max_length=64, required=False, help_text=_TIME_ZONE_HELP)
    services = _services_field(required=False)

    class Meta:
        ref_name = "ProviderProfileUpdate"


def _duration_field(**kwargs):
    return fields.IntegerField(
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        help_text=(
            f"{MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES}, a multiple of the slot size "
            "(`BOOKING_SLOT_MINUTES`, 15)."
        ),
        **kwargs,
    )


class BookingCreateSerializer(serializers.Serializer):
    provider = fields.IdField(help_text="The provider's user id.")
    service = fields.IdField(
        source="product", required=False, allow_null=True, help_text="A product they offer."
    )
    start = AwareDateTimeField(help_text="ISO 8601 with its UTC offset; on the provider's slot grid.")
    duration_minutes = _duration_field()
    notes = fields.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True)

    class Meta:
        ref_name = "BookingCreate"


class BookingUpdateSerializer(serializers.Serializer):
    start = AwareDateTimeField(required=False, help_text="The new start, with its UTC offset.")
    duration_minutes = _duration_field(required=False)
    notes = fields.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True)

    class Meta:
        ref_name = "BookingUpdate"


class BookingCancelSerializer(serializers.Serializer):
    reason = fields.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)

    class Meta:
        ref_name = "BookingCancel"


class QueryIntegerField(serializers.IntegerField):
    """A query parameter's digits, nothing else: DRF also reads `60.0` as 60."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"[0-9]{1,6}", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryDateField(serializers.DateField):
    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class AvailabilityQuerySerializer(serializers.Serializer):
    date = QueryDateField(help_text="`YYYY-MM-DD`, a day in the provider's zone.")
    duration = QueryIntegerField(
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        required=False,
        default=60,
        help_text="Minutes, a multiple of the slot size; 60 when left out.",
    )


# --- Availability across providers ------------------------------------------------------------------
@extend_schema_field(
    {"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
)
class RangeBoundField(serializers.Field):
    """A query parameter that is a date (`YYYY-MM-DD`: a day in each provider's zone) or an ISO 8601
    date and time with its UTC offset (an instant; `+` written `%2B` in a URL)."""

    default_error_messages = {
        "invalid": _("Give a date (2030-01-31) or a date and time with its offset (2030-01-31T09:00:00Z)."),
        "range": _("This date is out of range."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", data):
            day = QueryDateField().run_validation(data)
            # Midnight of the day after, in any zone, must still be a datetime (year 1 to 9999 in UTC).
            if not 2 <= day.year <= 9998:
                self.fail("range")
            return day
        # An unescaped `+` in a query string arrives as a space: `…T09:00:00 01:00`.
        data = re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", data)
        return AwareDateTimeField().run_validation(data)

    def to_representation(self, value):
        return value.isoformat()


def _slot_duration_field():
    return QueryIntegerField(
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        required=False,
        default=60,
        help_text="Minutes, a multiple of the slot size (`BOOKING_SLOT_MINUTES`, 15); 60 when left out.",
    )


class NextSlotQuerySerializer(serializers.Serializer):
    service = fields.QueryIdField(help_text="A product's id: the providers who offer it are searched.")
    duration = _slot_duration_field()

    class Meta:
        ref_name = "NextSlotQuery"


class AvailabilitySearchQuerySerializer(NextSlotQuerySerializer):
    # `from` is a Python keyword: declared through the class namespace.
    locals()["from"] = RangeBoundField(
        help_text="The first start: a date (that day's midnight in each provider's zone) or a time with "
        "its offset."
    )
    to = RangeBoundField(
        help_text="The last start: a date (that whole day, in each provider's zone) or a time with its "
        "offset (starts before it). At most 7 days after `from`."
    )

    class Meta:
        ref_name = "AvailabilitySearchQuery"


class ProviderSlotSerializer(serializers.Serializer):
    provider = PartySerializer(read_only=True)
    time_zone = fields.CharField(read_only=True, help_text="The provider's IANA time zone.")
    start = serializers.DateTimeField(read_only=True, help_text="In the provider's zone, with its offset.")
    end = serializers.DateTimeField(read_only=True, help_text="In the provider's zone, with its offset.")

    class Meta:
        ref_name = "ProviderSlot"

    def to_representation(self, slot) -> dict:
        return {
            "provider": {"id": slot.provider_id, "name": slot.name},
            "time_zone": slot.tz.key,
            "start": slot.start.astimezone(slot.tz).isoformat(),
            "end": slot.end.astimezone(slot.tz).isoformat(),
        }


class ProviderFirstSlotSerializer(serializers.Serializer):
    provider = PartySerializer(read_only=True)
    time_zone = fields.CharField(read_only=True, help_text="The provider's IANA time zone.")
    slot = SlotSerializer(read_only=True, allow_null=True, help_text="Null: no free slot up to the horizon.")

    class Meta:
        ref_name = "ProviderFirstSlot"

    def to_representation(self, entry) -> dict:
        slot = entry.slot
        return {
            "provider": {"id": entry.provider_id, "name": entry.name},
            "time_zone": entry.tz.key,
            "slot": (
                {
                    "start": slot.start.astimezone(entry.tz).isoformat(),
                    "end": slot.end.astimezone(entry.tz).isoformat(),
                }
                if slot is not None
                else None
            ),
        }
