from rest_framework.routers import SimpleRouter

from apps.bookings.views import BookingViewSet, ProviderViewSet

router = SimpleRouter()
router.register("providers", ProviderViewSet, basename="provider")
router.register("bookings", BookingViewSet, basename="booking")
