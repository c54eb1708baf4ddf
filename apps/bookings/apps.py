from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from apps.bookings import notifications  # noqa: F401 - registers the booking messages
