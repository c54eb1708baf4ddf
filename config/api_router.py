"""The /api/v1/ root: every app registers its ViewSets on this one router.

Each app keeps its registrations in its own `urls.py` (a `router`); the root takes every app of
`LOCAL_APPS` that has one, in that order, so adding an app to `LOCAL_APPS` is all it takes to serve
its endpoints. The order is the order of the schema's paths and of the API root's index.
"""

from importlib import import_module

from django.conf import settings
from django.utils.module_loading import module_has_submodule
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter


class ApiRootView(APIRootView):
    """Index of the API's resources."""

    permission_classes = [AllowAny]


class ApiRouter(DefaultRouter):
    APIRootView = ApiRootView


def app_routers() -> list:
    """The `router` of each app's `urls.py`, in `LOCAL_APPS` order; apps without one are skipped."""
    routers = []
    for name in settings.LOCAL_APPS:
        if module_has_submodule(import_module(name), "urls"):
            routers.append(import_module(f"{name}.urls").router)
    return routers


router = ApiRouter()
for app_router in app_routers():
    router.registry.extend(app_router.registry)

app_name = "api"
urlpatterns = router.urls
