"""Booking tasks: each calls a service and may run twice safely."""

from celery import shared_task

from apps.bookings import services


@shared_task(name="bookings.send_reminders", ignore_result=True)
def send_reminders() -> int:
    return services.bookings_send_reminders()
