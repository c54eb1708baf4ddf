import django_filters
from django import forms

from apps.bookings.models import Booking, BookingStatus
from apps.core.filters import BoundedIsoDateTimeField, IntegerFilter

MAX_ID = 2**63 - 1


class AwareIsoDateTimeField(BoundedIsoDateTimeField):
    """An ISO 8601 date and time with its UTC offset: without one, whose midnight would it be?"""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and isinstance(value, str) and not _has_offset(value):
            raise forms.ValidationError("Give the time with its UTC offset (Z or +01:00).", code="invalid")
        return parsed


def _has_offset(text: str) -> bool:
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return False
    return parsed is not None and parsed.tzinfo is not None


class AwareIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareIsoDateTimeField


class BookingFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=BookingStatus.choices, help_text="One or more (`?status=pending&status=confirmed`)."
    )
    provider = IntegerFilter(
        field_name="provider_id", min_value=1, max_value=MAX_ID, help_text="The provider's user id."
    )
    customer = IntegerFilter(
        field_name="customer_id", min_value=1, max_value=MAX_ID, help_text="The customer's user id."
    )
    service = IntegerFilter(
        field_name="service_id", min_value=1, max_value=MAX_ID, help_text="The product's id."
    )
    start_after = AwareIsoDateTimeFilter(
        field_name="start", lookup_expr="gte", help_text="Starting at or after this time (with its offset)."
    )
    start_before = AwareIsoDateTimeFilter(
        field_name="start", lookup_expr="lt", help_text="Starting before this time (with its offset)."
    )

    class Meta:
        model = Booking
        fields = ["status", "provider", "customer", "service", "start_after", "start_before"]


class ProviderFilter(django_filters.FilterSet):
    service = IntegerFilter(
        field_name="provider_profile__services",
        min_value=1,
        max_value=MAX_ID,
        help_text="Only providers offering this product.",
    )

    class Meta:
        fields = ["service"]
