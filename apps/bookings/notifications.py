"""The booking messages, sent through the notification pipeline (apps/notifications).

Both parties hear of every booking that is made, confirmed, cancelled or moved (email and in-app);
the customer gets a reminder the day before a confirmed booking (email, in-app and, to a verified
number, SMS). The stored context is the booking's id; the text is made at send time from the
booking as it is then, with its times in the provider's zone (where the appointment happens).

A booking made and cancelled in quick succession sends the provider nothing: their "booking made"
message waits BOOKING_CREATED_MESSAGE_DELAY_SECONDS before it goes out, and a cancellation in the
meantime withdraws it; a party whose "booking made" never went out is not sent the cancellation
either. The delivery itself checks again: a "booking made" message finds the booking cancelled
at send time and is dropped (`NotNeeded`), whatever the queue did with the countdown.

When a provider adds time off (or changes their hours for some days) over active bookings, those
bookings are not cancelled: the provider is sent `schedule_exception_conflicts` listing them, so
that they can cancel or move each one. Its variables: `days` and `kind` (the exception),
`bookings` (each with `start`, `end`, `customer`, `service`, `link`), `count`, `link`.

Template variables, for every booking kind: `booking_id`, `service` (the booked product's name),
`provider`, `customer`, `start`, `end`, `time_zone`, `duration`, `status`, `is_provider` (the
recipient is the provider), `other` (the other party's name), `reason` and `cancelled_by`
(cancellations), `link`; the pipeline adds `user` and `site_name`.
"""

from django.conf import settings
from django.utils import timezone

from apps.notifications.kinds import Kind, NotNeeded, register
from apps.notifications.models import Category, Channel
from apps.notifications.selectors import any_gone_out
from apps.notifications.services import notifications_withdraw, notify


def when(instant, tz) -> str:
    """`Mon 29 Mar 2027, 10:00 BST`: short enough for an SMS, with the zone's abbreviation."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def _name(user) -> str:
    return user.get_full_name() if user is not None else ""


def booking_context(booking, recipient) -> dict:
    from apps.bookings.selectors import provider_zone

    tz = provider_zone(booking.provider)
    is_provider = recipient.pk == booking.provider_id
    local_end = booking.end.astimezone(tz)
    return {
        "booking_id": booking.pk,
        "service": booking.product.name if booking.product is not None else "Appointment",
        "provider": _name(booking.provider),
        "customer": _name(booking.customer),
        "other": _name(booking.customer if is_provider else booking.provider),
        "is_provider": is_provider,
        "start": when(booking.start, tz),
        "end": f"{local_end:%H:%M}",
        "time_zone": tz.key,
        "duration": f"{booking.duration_minutes} minutes",
        "status": booking.get_status_display(),
        "reason": booking.cancellation_reason,
        "cancelled_by": _name(booking.cancelled_by) if booking.cancelled_by_id else "",
        "link": f"{settings.FRONTEND_URL}/bookings/{booking.pk}",
    }


def _booking(notification):
    from apps.bookings.models import Booking

    booking = (
        Booking.objects.select_related(
            "customer", "provider", "provider__provider_profile", "product", "cancelled_by"
        )
        .filter(pk=notification.context["booking_id"])
        .first()
    )
    if booking is None:
        raise NotNeeded("the booking is gone")
    return booking


def _any_context(notification) -> dict:
    return booking_context(_booking(notification), notification.recipient)


def _created_context(notification) -> dict:
    booking = _booking(notification)
    if booking.status == booking.Status.CANCELLED:
        raise NotNeeded("the booking was cancelled before this went out")
    return booking_context(booking, notification.recipient)


def _confirmed_context(notification) -> dict:
    booking = _booking(notification)
    if booking.status != booking.Status.CONFIRMED:
        raise NotNeeded(f"the booking is {booking.status} now")
    return booking_context(booking, notification.recipient)


def _reminder_context(notification) -> dict:
    booking = _booking(notification)
    if booking.status != booking.Status.CONFIRMED:
        raise NotNeeded(f"the booking is {booking.status} now")
    if booking.start.timestamp() != notification.context.get("start") or booking.start <= timezone.now():
        raise NotNeeded("the booking has moved or started")
    return booking_context(booking, notification.recipient)


_EVERYWHERE = (Channel.EMAIL, Channel.IN_APP)
BOOKING_CREATED = register(
    Kind(
        "booking_created",
        Category.BOOKINGS,
        channels=_EVERYWHERE,
        description=(
            "A booking was made (to the customer and, after BOOKING_CREATED_MESSAGE_DELAY_SECONDS, the "
            "provider); not sent once the booking is cancelled."
        ),
        send_context=_created_context,
    )
)
BOOKING_CONFIRMED = register(
    Kind(
        "booking_confirmed",
        Category.BOOKINGS,
        channels=_EVERYWHERE,
        description="The provider confirmed a booking (to both).",
        send_context=_confirmed_context,
    )
)
BOOKING_CANCELLED = register(
    Kind(
        "booking_cancelled",
        Category.BOOKINGS,
        channels=_EVERYWHERE,
        description=(
            "A booking was cancelled, with the reason (to each party whose booking-made message went out)."
        ),
        send_context=_any_context,
    )
)
BOOKING_RESCHEDULED = register(
    Kind(
        "booking_rescheduled",
        Category.BOOKINGS,
        channels=_EVERYWHERE,
        description="A booking moved to another time (to both).",
        send_context=_any_context,
    )
)
BOOKING_REMINDER = register(
    Kind(
        "booking_reminder",
        Category.BOOKINGS,
        channels=(Channel.EMAIL, Channel.IN_APP, Channel.SMS),
        description="The day before a confirmed booking (to the customer).",
        send_context=_reminder_context,
        sample_context={
            "service": "Haircut",
            "provider": "Ada Lovelace",
            "start": "Mon 29 Mar 2027, 10:00 BST",
        },
    )
)
_KINDS = {
    "created": BOOKING_CREATED,
    "confirmed": BOOKING_CONFIRMED,
    "cancelled": BOOKING_CANCELLED,
    "rescheduled": BOOKING_RESCHEDULED,
}


def _event_key(booking, event_key: str, user) -> str:
    return f"booking:{booking.pk}:{event_key}:user:{user.pk}"


def booking_parties_notify(booking, event: str, *, version=None) -> None:
    """Queue the `event` message to the customer and the provider, in the caller's transaction.

    Keyed `booking:<id>:<event>:user:<uid>`, so one event messages each party once; a booking moves
    more than once, so a move's key also names the moment it moved (`version`). The provider's
    "booking made" message waits BOOKING_CREATED_MESSAGE_DELAY_SECONDS; a cancellation goes only
    to the parties who heard of the booking (`booking_cancelled_notify`).
    """
    if event == "cancelled":
        booking_cancelled_notify(booking)
        return
    kind = _KINDS[event]
    event_key = f"{event}:{version.timestamp():.6f}" if version is not None else event
    provider_delay = settings.BOOKING_CREATED_MESSAGE_DELAY_SECONDS if event == "created" else 0
    for user, delay in ((booking.customer, 0), (booking.provider, provider_delay)):
        notify(
            user=user,
            key=kind.key,
            context={"booking_id": booking.pk},
            idempotency_key=_event_key(booking, event_key, user),
            delay_seconds=delay,
        )


def booking_cancelled_notify(booking) -> None:
    """Withdraw the "booking made" messages that have not gone out, and tell each party who did
    hear of the booking that it is cancelled; in the cancelling transaction, the booking locked.

    One customer booking and cancelling in a loop would otherwise send the provider two messages a
    round, each with the customer's text in it; now a round inside the delay sends nothing.
    """
    for user in (booking.customer, booking.provider):
        created = [f"{_event_key(booking, 'created', user)}:{channel}" for channel in Channel.values]
        notifications_withdraw(idempotency_keys=created, reason="the booking was cancelled first")
        if not any_gone_out(idempotency_keys=created):
            continue  # never told of the booking: nothing to take back
        notify(
            user=user,
            key=BOOKING_CANCELLED.key,
            context={"booking_id": booking.pk},
            idempotency_key=_event_key(booking, "cancelled", user),
        )


def booking_reminder_notify(booking) -> None:
    """Queue the reminder of `booking` to its customer, once per booking and start time."""
    start = booking.start.timestamp()
    notify(
        user=booking.customer,
        key=BOOKING_REMINDER.key,
        context={"booking_id": booking.pk, "start": start},
        idempotency_key=f"booking:{booking.pk}:reminder:{int(start)}",
    )


def _exception_conflicts_context(notification) -> dict:
    from apps.bookings.models import Booking, ScheduleException

    exception = (
        ScheduleException.objects.select_related("provider__user")
        .filter(pk=notification.context["exception_id"])
        .first()
    )
    if exception is None:
        raise NotNeeded("the exception was deleted")
    from apps.bookings.selectors import provider_zone

    tz = provider_zone(exception.provider.user)
    bookings = list(
        Booking.objects.select_related("customer", "product")
        .filter(pk__in=notification.context["booking_ids"], status__in=("pending", "confirmed"))
        .order_by("start", "id")
    )
    if not bookings:
        raise NotNeeded("every booking it named is cancelled or finished")
    days = f"{exception.start_date:%a} {exception.start_date.day} {exception.start_date:%b %Y}"
    if exception.end_date != exception.start_date:
        days += f" to {exception.end_date:%a} {exception.end_date.day} {exception.end_date:%b %Y}"
    return {
        "days": days,
        "kind": exception.get_kind_display(),
        "count": len(bookings),
        "bookings": [
            {
                "id": booking.pk,
                "start": when(booking.start, tz),
                "end": f"{booking.end.astimezone(tz):%H:%M}",
                "customer": _name(booking.customer),
                "service": booking.product.name if booking.product is not None else "Appointment",
                "link": f"{settings.FRONTEND_URL}/bookings/{booking.pk}",
            }
            for booking in bookings
        ],
        "link": f"{settings.FRONTEND_URL}/bookings",
    }


SCHEDULE_EXCEPTION_CONFLICTS = register(
    Kind(
        "schedule_exception_conflicts",
        Category.BOOKINGS,
        channels=_EVERYWHERE,
        description=(
            "Time off (or changed hours) the provider saved leaves active bookings outside their working "
            "time; lists them, to the provider, who cancels or moves them. Not sent once none is active."
        ),
        send_context=_exception_conflicts_context,
    )
)


def schedule_exception_conflicts_notify(exception, bookings) -> None:
    """Queue the message listing `bookings` to the provider of `exception`, in the caller's
    transaction; once per save of the exception (keyed by its id and the moment it was saved)."""
    notify(
        user=exception.provider.user,
        key=SCHEDULE_EXCEPTION_CONFLICTS.key,
        context={"exception_id": exception.pk, "booking_ids": [booking.pk for booking in bookings]},
        idempotency_key=f"schedule_exception:{exception.pk}:conflicts:{exception.updated_at.timestamp():.6f}",
    )
