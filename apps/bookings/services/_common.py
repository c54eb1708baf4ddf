"""What the booking writes share: row locks, audit snapshots, and who counts as staff."""

from decimal import Decimal

from apps.bookings.models import Booking
from apps.bookings.selectors import sees_all_bookings
from apps.core import errors

BOOKING_FIELDS = ("status", "start", "end", "notes", "service", "price", "provider", "customer")


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def booking_state(booking: Booking, names=BOOKING_FIELDS) -> dict:
    return {name: _jsonable(getattr(booking, _ATTRIBUTES.get(name, name))) for name in names}


# An audit entry names a relation by its id, and the booked product `service`, as the API (which
# serves the audit trail) does.
_ATTRIBUTES = {
    "service": "product_id",
    "provider": "provider_id",
    "customer": "customer_id",
    "cancelled_by": "cancelled_by_id",
}


def diff(before: dict, after: dict) -> dict:
    return {key: [before.get(key), after[key]] for key in after if before.get(key) != after[key]}


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


def is_staff(actor) -> bool:
    """Staff, for the booking rules: whoever may see every booking."""
    return actor is not None and getattr(actor, "is_authenticated", False) and sees_all_bookings(actor)


def is_party(actor, booking: Booking) -> bool:
    return actor is not None and actor.pk in (booking.customer_id, booking.provider_id)
