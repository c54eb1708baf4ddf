import django_filters

from apps.bookings.models import Booking, BookingStatus
from apps.core.filters import DateTimeFilter, IdFilter


class BookingFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=BookingStatus.choices, help_text="One or more (`?status=pending&status=confirmed`)."
    )
    provider = IdFilter(field_name="provider_id", help_text="The provider's user id.")
    customer = IdFilter(field_name="customer_id", help_text="The customer's user id.")
    service = IdFilter(field_name="product_id", help_text="The product's id.")
    start_after = DateTimeFilter(
        field_name="start",
        lookup_expr="gte",
        require_offset=True,
        help_text="Starting at or after this time (with its offset).",
    )
    start_before = DateTimeFilter(
        field_name="start",
        lookup_expr="lt",
        require_offset=True,
        help_text="Starting before this time (with its offset).",
    )

    class Meta:
        model = Booking
        fields = ["status", "provider", "customer", "service", "start_after", "start_before"]


class ProviderFilter(django_filters.FilterSet):
    service = IdFilter(
        field_name="provider_profile__products", help_text="Only providers offering this product."
    )

    class Meta:
        fields = ["service"]
