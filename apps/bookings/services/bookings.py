"""Making a booking and moving it: every rule of the time a booking holds, and the guarantee that no
two active bookings of one provider (or one customer) overlap.

On PostgreSQL the exclusion constraints of migration 0002 decide, in the INSERT (or UPDATE)
itself: a second overlapping write waits for the first to commit and fails, and the service turns
the violated constraint's name into the 409 (the provider's slot, or the customer's own booking).
No query asks first: it would cost two statements on every booking and decide nothing the
constraint does not. SQLite has no exclusion constraints, so there the service asks inside the
write transaction, which its IMMEDIATE transactions make the only writer at a time.
"""

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.bookings import rules, selectors
from apps.bookings.constraints import CUSTOMER_OVERLAP, PROVIDER_OVERLAP, violated_constraint
from apps.bookings.models import ACTIVE_STATUSES, NOTES_MAX_LENGTH, Booking, BookingStatus, ScheduleException
from apps.bookings.notifications import booking_parties_notify
from apps.bookings.services._common import booking_state, is_staff, locked_booking
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff
from apps.products.models import Product
from apps.products.selectors import products_on_sale

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SlotTaken(errors.Conflict):
    default_message = _("This time overlaps another booking with this provider; pick another slot.")


class CustomerBusy(errors.Conflict):
    default_message = _("You already have a booking at this time.")


def _provider(provider_id: int | None) -> User:
    provider = selectors.provider_with_hours(provider_id=provider_id) if provider_id else None
    if provider is None:
        raise errors.InvalidInput({"provider": [_("No provider has this id.")]})
    return provider


def _product(provider: User, product_id: int | None) -> Product | None:
    if product_id is None:
        return None
    profile = getattr(provider, "provider_profile", None)
    product = (
        products_on_sale(profile.products.all()).filter(pk=product_id).first()
        if profile is not None
        else None
    )
    if product is None:
        # The API's name for the booked product.
        raise errors.InvalidInput({"service": [_("This provider does not offer this service.")]})
    return product


def _time_problems(*, provider: User, start: datetime, minutes: int, now: datetime) -> dict[str, Any]:
    """The rules of a booking's time, as field errors (empty when it may be booked)."""
    problems: dict[str, list[StrOrPromise]] = {}
    if (problem := rules.duration_problem(minutes)) is not None:
        problems["duration_minutes"] = [problem]
    if timezone.is_naive(start):
        problems["start"] = [_("Give the time with its UTC offset, e.g. 2030-01-31T09:00:00+01:00 or …Z.")]
        return problems
    tz = selectors.provider_zone(provider)
    # The horizon first: a start far enough out (year 9999) cannot be moved into a zone or extended.
    if start < rules.earliest_start(now):
        problems["start"] = [
            _("Book at least %(minutes)d minutes ahead.") % {"minutes": settings.BOOKING_LEAD_MINUTES}
        ]
    elif start > rules.latest_start(now):
        problems["start"] = [
            _("Book at most %(days)d days ahead.") % {"days": settings.BOOKING_MAX_DAYS_AHEAD}
        ]
    elif not rules.on_grid(start, tz):
        problems["start"] = [
            _("Bookings start on the provider's %(slot)d-minute grid (09:00, 09:15, … in %(zone)s).")
            % {"slot": rules.slot_minutes(), "zone": tz.key}
        ]
    elif "duration_minutes" not in problems and not rules.inside_working_hours(
        start,
        start + timedelta(minutes=minutes),
        selectors.provider_hours(provider),
        tz,
        exceptions=_exceptions_on(provider, start.astimezone(tz).date()),
    ):
        problems["start"] = [
            _("Outside the provider's working hours (%(zone)s); see providers/{id}/availability/.")
            % {"zone": tz.key}
        ]
    return problems


def _exceptions_on(provider: User, day: date) -> list[ScheduleException]:
    return selectors.schedule_exceptions_between(provider_id=provider.pk, first=day, last=day)


def _check_free(
    *, provider_id: int, customer_id: int, start: datetime, end: datetime, exclude_pk: int | None = None
) -> None:
    """The overlap rule where no exclusion constraint holds it (SQLite); a no-op on PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    nearby = selectors.overlapping(start=start, end=end, exclude_pk=exclude_pk)
    if nearby.filter(provider_id=provider_id).exists():
        raise SlotTaken()
    if nearby.filter(customer_id=customer_id).exists():
        raise CustomerBusy()


def _save(booking: Booking, **kwargs: Any) -> None:
    """Save in a savepoint; an exclusion constraint lost to a concurrent booking is the 409."""
    try:
        with transaction.atomic():
            booking.save(**kwargs)
    except IntegrityError as exc:
        name = violated_constraint(exc)
        if name == PROVIDER_OVERLAP:
            raise SlotTaken() from exc
        if name == CUSTOMER_OVERLAP:
            raise CustomerBusy() from exc
        raise


@transaction.atomic
def booking_create(
    *,
    customer: User,
    provider_id: int,
    start: datetime,
    duration_minutes: int,
    product_id: int | None = None,
    notes: str = "",
    request: HttpRequest | Request | None = None,
) -> Booking:
    """A pending booking of `customer` with the provider, priced at the product's current price."""
    provider = _provider(provider_id)
    if provider.pk == customer.pk:
        raise errors.InvalidInput({"provider": [_("You cannot book yourself.")]})
    product = _product(provider, product_id)
    if len(notes) > NOTES_MAX_LENGTH:
        raise errors.InvalidInput({"notes": [_("At most %(n)d characters.") % {"n": NOTES_MAX_LENGTH}]})
    problems = _time_problems(provider=provider, start=start, minutes=duration_minutes, now=timezone.now())
    if problems:
        raise errors.InvalidInput(problems)
    end = start + timedelta(minutes=duration_minutes)
    _check_free(provider_id=provider.pk, customer_id=customer.pk, start=start, end=end)
    booking = Booking(
        customer=customer,
        provider=provider,
        product=product,
        start=start,
        end=end,
        price=product.price if product is not None else None,
        notes=notes,
    )
    _save(booking)
    audit(
        action="booking.create",
        actor=customer,
        target=booking,
        changes=diff({}, booking_state(booking)),
        request=request,
    )
    booking_parties_notify(booking, "created")
    return booking


@transaction.atomic
def booking_update(
    *, booking: Booking, data: dict[str, Any], actor: User, request: HttpRequest | Request | None = None
) -> Booking:
    """Move a booking (`start`, `duration_minutes`) and change its `notes`, under the rules of a new
    booking. A customer moves it only until the cancellation cut-off, and a confirmed booking the
    customer moves goes back to pending: the provider confirms the new time."""
    booking = locked_booking(booking.pk)
    if booking.status not in ACTIVE_STATUSES:
        raise errors.Conflict(
            _("Only a pending or confirmed booking can be changed; this one is %(status)s.")
            % {"status": booking.get_status_display().lower()}
        )
    before = booking_state(booking)
    now = timezone.now()
    start = data.get("start", booking.start)
    minutes = data.get("duration_minutes", booking.duration_minutes)
    moved = start != booking.start or minutes != booking.duration_minutes
    if moved:
        by_customer = actor.pk == booking.customer_id and not is_staff(actor)
        if by_customer and now > booking.start - timedelta(hours=settings.BOOKING_CANCEL_CUTOFF_HOURS):
            raise errors.Conflict(
                _("A booking can be moved until %(hours)d hours before it starts; ask the provider.")
                % {"hours": settings.BOOKING_CANCEL_CUTOFF_HOURS}
            )
        problems = _time_problems(provider=booking.provider, start=start, minutes=minutes, now=now)
        if problems:
            raise errors.InvalidInput(problems)
        booking.start, booking.end = start, start + timedelta(minutes=minutes)
        _check_free(
            provider_id=booking.provider_id,
            customer_id=booking.customer_id,
            start=booking.start,
            end=booking.end,
            exclude_pk=booking.pk,
        )
        booking.reminder_queued_at = None  # the new time gets its own reminder
        if by_customer and booking.status == BookingStatus.CONFIRMED:
            booking.status = BookingStatus.PENDING
    if "notes" in data:
        booking.notes = data["notes"]
    changes = diff(before, booking_state(booking))
    if not changes:
        return booking
    _save(booking)
    audit(
        action="booking.reschedule" if moved else "booking.update",
        actor=actor,
        target=booking,
        changes=changes,
        request=request,
    )
    if moved:
        booking_parties_notify(booking, "rescheduled", version=booking.updated_at)
    return booking
