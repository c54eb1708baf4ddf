"""Booking writes. Each is one transaction on `default`, audited in the logs database, and queues
its messages through the notification pipeline in the same transaction."""

from apps.bookings.services.bookings import CustomerBusy, SlotTaken, booking_create, booking_update
from apps.bookings.services.providers import (
    provider_make,
    provider_make_check,
    provider_profile_update,
    provider_remove,
)
from apps.bookings.services.reminders import bookings_send_reminders
from apps.bookings.services.schedule import (
    provider_profile_for,
    provider_schedule_erase,
    working_hours_replace,
)
from apps.bookings.services.schedule_exceptions import (
    ScheduleExceptionSaved,
    schedule_exception_create,
    schedule_exception_delete,
    schedule_exception_update,
)
from apps.bookings.services.transitions import (
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_no_show,
    bookings_cancel_for_closed_account,
)

__all__ = [
    "CustomerBusy",
    "ScheduleExceptionSaved",
    "SlotTaken",
    "booking_cancel",
    "booking_complete",
    "booking_confirm",
    "booking_create",
    "booking_no_show",
    "booking_update",
    "bookings_cancel_for_closed_account",
    "bookings_send_reminders",
    "provider_make",
    "provider_make_check",
    "provider_profile_for",
    "provider_profile_update",
    "provider_remove",
    "provider_schedule_erase",
    "schedule_exception_create",
    "schedule_exception_delete",
    "schedule_exception_update",
    "working_hours_replace",
]
