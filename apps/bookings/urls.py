from rest_framework.routers import SimpleRouter

from apps.bookings.schedule_exception_views import ScheduleExceptionViewSet
from apps.bookings.views import BookingViewSet, ProviderViewSet

router = SimpleRouter()
router.register("providers", ProviderViewSet, basename="provider")
router.register("providers/me/schedule-exceptions", ScheduleExceptionViewSet, basename="schedule-exception")
router.register("bookings", BookingViewSet, basename="booking")
