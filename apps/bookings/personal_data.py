"""What bookings does when a person leaves (apps.accounts.personal_data): closing cancels their
bookings not yet started, telling the other party; erasure removes their schedule; the export shows
their bookings and provider profile.

Bookings are kept at erasure: they are the other party's records too (PROTECT on both users). They
then point at the anonymised account, their notes and reasons as written.
"""

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from apps.accounts.personal_data import PersonalData, Section, register
from apps.bookings.models import Booking, ProviderProfile, WorkingHours
from apps.bookings.services import bookings_cancel_for_closed_account, provider_schedule_erase

if TYPE_CHECKING:
    from apps.accounts.models import User

BOOKING_EXPORT_FIELDS = (
    "id",
    "customer_id",
    "provider_id",
    "product__name",
    "start",
    "end",
    "status",
    "price",
    "notes",
    "cancelled_at",
    "cancelled_by_id",
    "cancellation_reason",
    "created_at",
)


def _close(user: "User", request: HttpRequest | None) -> None:
    bookings_cancel_for_closed_account(user=user, request=request)


def _erase(user: "User") -> None:
    provider_schedule_erase(user=user)


def _bookings(limit: int, **owner: Any) -> list[dict[str, Any]]:
    rows = Booking.objects.filter(**owner).order_by("-start", "-id").values(*BOOKING_EXPORT_FIELDS)
    return [
        {("service" if key == "product__name" else key): value for key, value in row.items()}
        for row in rows[: limit + 1]
    ]


def _export(user: "User", limit: int) -> dict[str, Section]:
    """Four queries: bookings as customer, as provider, the provider profile, its working hours."""
    profile = ProviderProfile.objects.filter(user_id=user.pk).values("time_zone", "created_at").first()
    provider: dict[str, Any] | None = None
    if profile is not None:
        hours = WorkingHours.objects.filter(provider_id=user.pk).values("weekday", "start", "end")
        provider = {**profile, "working_hours": list(hours)}
    return {
        "bookings": {
            "as_customer": _bookings(limit, customer=user),
            "as_provider": _bookings(limit, provider=user),
        },
        "provider": provider,
    }


register(PersonalData("bookings", close=_close, erase=_erase, export=_export))
