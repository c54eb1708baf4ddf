from rest_framework.routers import SimpleRouter

from apps.logs.views import AuditLogViewSet

router = SimpleRouter()
router.register("audit-logs", AuditLogViewSet, basename="audit-log")
