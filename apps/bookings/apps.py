from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from apps.bookings import (  # noqa: F401
            notifications,  # registers the booking messages
            personal_data,  # what leaving means for bookings (apps.accounts.personal_data)
        )
