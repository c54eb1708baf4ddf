from rest_framework.routers import SimpleRouter

from apps.bookings.schedule_exception_views import ScheduleExceptionViewSet
from apps.bookings.views import AvailabilityViewSet, BookingViewSet, ProviderViewSet

router = SimpleRouter()
router.register("providers", ProviderViewSet, basename="provider")
router.register("providers/me/schedule-exceptions", ScheduleExceptionViewSet, basename="schedule-exception")
router.register("bookings", BookingViewSet, basename="booking")
router.register("availability", AvailabilityViewSet, basename="availability")
