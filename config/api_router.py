"""The /api/v1/ root: every app registers its ViewSets on this one router."""

from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter

from apps.accounts.urls import router as accounts_router
from apps.analytics.urls import router as analytics_router
from apps.bookings.urls import router as bookings_router
from apps.logs.urls import router as logs_router
from apps.notifications.urls import router as notifications_router
from apps.products.urls import router as products_router
from apps.roles.urls import router as roles_router


class ApiRootView(APIRootView):
    """Index of the API's resources."""

    permission_classes = [AllowAny]


class ApiRouter(DefaultRouter):
    APIRootView = ApiRootView


router = ApiRouter()
# Each app keeps its registrations in its own urls.py; they all hang off this one root.
for app_router in (
    accounts_router,
    roles_router,
    products_router,
    bookings_router,
    notifications_router,
    analytics_router,
    logs_router,
):
    router.registry.extend(app_router.registry)

app_name = "api"
urlpatterns = router.urls
