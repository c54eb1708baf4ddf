from rest_framework.routers import SimpleRouter

from apps.analytics.views import LoginStatsViewSet

router = SimpleRouter()
router.register("analytics/logins", LoginStatsViewSet, basename="login-stats")
