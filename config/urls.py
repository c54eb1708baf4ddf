from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core import health
from apps.core.internal import internal_only

urlpatterns = [
    path("health/", health.liveness, name="health-liveness"),
    path("health/ready/", health.readiness, name="health-readiness"),
    path("api/v1/", include("config.api_router")),
    # Internal: the networks in INTERNAL_NETWORKS and staff only (404 for others; see apps/core/internal.py).
    path("api/schema/", internal_only(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline, which the
    # pages' Content-Security-Policy would refuse.
    path(
        "api/docs/",
        internal_only(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/redoc/", internal_only(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path(settings.ADMIN_URL, admin.site.urls),
]
# Uploaded files from local storage, in development only (`static()` adds nothing unless DEBUG):
# production serves them from the web server, a CDN or S3.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "apps.core.exceptions.bad_request"
handler403 = "apps.core.exceptions.permission_denied"
handler404 = "apps.core.exceptions.page_not_found"
handler500 = "apps.core.exceptions.server_error"
