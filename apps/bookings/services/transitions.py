"""A booking's status changes. Each locks the row, so of two concurrent changes the second sees the
first's result (and is a 409 if the status no longer allows it):

    pending ──confirm──> confirmed ──complete──> completed
       │                     │ └───no-show───> no_show
       └──────cancel─────────┴──> cancelled

- confirm: the provider, or whoever holds `bookings.confirm_booking` (never the customer), before
  the start;
- cancel: the customer until `BOOKING_CANCEL_CUTOFF_HOURS` before the start; the provider and
  staff (`bookings.view_all_bookings`) at any time;
- complete and no-show: the provider or staff, once the booking has started.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from apps.bookings.notifications import booking_parties_notify
from apps.bookings.services._common import booking_state, is_staff, locked_booking
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff

if TYPE_CHECKING:
    from apps.accounts.models import User

CONFIRM_PERMISSION = "bookings.confirm_booking"


def _wrong_status(booking: Booking, action: str, allowed: str) -> errors.Conflict:
    return errors.Conflict(
        _("Only a %(allowed)s booking can be %(action)s; this one is %(status)s.")
        % {"allowed": allowed, "action": action, "status": booking.get_status_display().lower()}
    )


def _record(
    booking: Booking,
    before: dict[str, Any],
    *,
    action: str,
    actor: User,
    request: HttpRequest | Request | None,
    fields: list[str],
) -> Booking:
    booking.save(update_fields=[*fields, "updated_at"])
    audit(
        action=action,
        actor=actor,
        target=booking,
        changes=diff(before, booking_state(booking, ("status", *fields))),
        request=request,
    )
    return booking


@transaction.atomic
def booking_confirm(
    *, booking: Booking, actor: User, request: HttpRequest | Request | None = None
) -> Booking:
    booking = locked_booking(booking.pk)
    is_provider = actor.pk == booking.provider_id
    if not is_provider and (actor.pk == booking.customer_id or not actor.has_perm(CONFIRM_PERMISSION)):
        raise errors.PermissionDenied(_("Only the provider, or staff who may confirm bookings, can confirm."))
    if booking.status != BookingStatus.PENDING:
        raise _wrong_status(booking, "confirmed", "pending")
    if timezone.now() >= booking.start:
        raise errors.Conflict(_("This booking has already started; it can no longer be confirmed."))
    before = booking_state(booking, ("status",))
    booking.status = BookingStatus.CONFIRMED
    _record(booking, before, action="booking.confirm", actor=actor, request=request, fields=["status"])
    booking_parties_notify(booking, "confirmed")
    return booking


@transaction.atomic
def booking_cancel(
    *, booking: Booking, actor: User, reason: str = "", request: HttpRequest | Request | None = None
) -> Booking:
    booking = locked_booking(booking.pk)
    now = timezone.now()
    privileged = actor.pk == booking.provider_id or is_staff(actor)
    if not privileged and actor.pk != booking.customer_id:
        raise errors.PermissionDenied(_("Only the customer, the provider or staff can cancel a booking."))
    if booking.status not in ACTIVE_STATUSES:
        raise _wrong_status(booking, "cancelled", "pending or confirmed")
    cutoff = booking.start - timedelta(hours=settings.BOOKING_CANCEL_CUTOFF_HOURS)
    if not privileged and now > cutoff:
        raise errors.Conflict(
            _("A booking can be cancelled until %(hours)d hours before it starts; ask the provider.")
            % {"hours": settings.BOOKING_CANCEL_CUTOFF_HOURS}
        )
    before = booking_state(booking, ("status", "cancellation_reason"))
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
    booking.cancellation_reason = reason
    _record(
        booking,
        before,
        action="booking.cancel",
        actor=actor,
        request=request,
        fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"],
    )
    booking_parties_notify(booking, "cancelled")
    return booking


def _finish(
    booking: Booking, *, actor: User, to: str, verb: str, request: HttpRequest | Request | None
) -> Booking:
    booking = locked_booking(booking.pk)
    if actor.pk != booking.provider_id and not is_staff(actor):
        raise errors.PermissionDenied(
            _("Only the provider or staff can mark a booking %(verb)s.") % {"verb": verb}
        )
    if booking.status != BookingStatus.CONFIRMED:
        raise _wrong_status(booking, f"marked {verb}", "confirmed")
    if timezone.now() < booking.start:
        raise errors.Conflict(_("This booking has not started yet."))
    before = booking_state(booking, ("status",))
    booking.status = to
    return _record(booking, before, action=f"booking.{to}", actor=actor, request=request, fields=["status"])


@transaction.atomic
def booking_complete(
    *, booking: Booking, actor: User, request: HttpRequest | Request | None = None
) -> Booking:
    return _finish(booking, actor=actor, to=BookingStatus.COMPLETED, verb="completed", request=request)


@transaction.atomic
def booking_no_show(
    *, booking: Booking, actor: User, request: HttpRequest | Request | None = None
) -> Booking:
    return _finish(booking, actor=actor, to=BookingStatus.NO_SHOW, verb="a no-show", request=request)


ACCOUNT_CLOSED_REASON = _("The account of the other party was closed.")


@transaction.atomic
def bookings_cancel_for_closed_account(*, user: "User", request: HttpRequest | None = None) -> int:
    """Cancel the active bookings not yet started in which `user` is the customer or the provider,
    as their account closes; how many. Unlike `booking_cancel`, no cut-off applies: the person is
    leaving, and the other party is better told now than stood up. Each is audited as a
    cancellation by the leaving user, and the other party is told as for any cancellation."""
    now = timezone.now()
    ids = list(
        Booking.objects.filter(
            Q(customer=user) | Q(provider=user), status__in=ACTIVE_STATUSES, start__gt=now
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        booking = locked_booking(pk)
        if booking.status not in ACTIVE_STATUSES:  # changed meanwhile
            continue
        before = booking_state(booking, ("status", "cancellation_reason"))
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at, booking.cancelled_by = now, user
        booking.cancellation_reason = str(ACCOUNT_CLOSED_REASON)
        _record(
            booking,
            before,
            action="booking.cancel",
            actor=user,
            request=request,
            fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"],
        )
        booking_parties_notify(booking, "cancelled")
    return len(ids)
