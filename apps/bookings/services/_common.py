"""What the booking writes share: row locks, audit snapshots, and who counts as staff."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.selectors import sees_all_bookings
from apps.core import errors
from apps.logs.snapshots import snapshot

BOOKING_FIELDS = ("status", "start", "end", "notes", "service", "price", "provider", "customer")


def booking_state(booking: Booking, names: Iterable[str] = BOOKING_FIELDS) -> dict[str, Any]:
    """The audit snapshot of `names` (by default, what a change of the booking may touch)."""
    state = snapshot(booking, [_FIELDS.get(name, name) for name in names])
    return {_AUDIT_NAMES.get(field, field): value for field, value in state.items()}


# An audit entry names the booked product `service`, as the API (which serves the audit trail) does.
_FIELDS = {"service": "product"}
_AUDIT_NAMES = {field: name for name, field in _FIELDS.items()}


def locked_booking(pk: int) -> Booking:
    """The booking, locked until the transaction ends; a 404 if it went in the meantime."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("customer", "provider", "provider__provider_profile", "product")
        .filter(pk=pk)
        .first()
    )
    if booking is None:
        raise errors.NotFound()
    return booking


def is_staff(actor: User | AnonymousUser | None) -> bool:
    """Staff, for the booking rules: whoever may see every booking."""
    return actor is not None and getattr(actor, "is_authenticated", False) and sees_all_bookings(actor)


def is_party(actor: User | AnonymousUser | None, booking: Booking) -> bool:
    return actor is not None and actor.pk in (booking.customer_id, booking.provider_id)
