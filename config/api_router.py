"""The /api/v1/ root: every app registers its ViewSets on this one router."""

from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter


class ApiRootView(APIRootView):
    """Index of the API's resources."""

    permission_classes = [AllowAny]


class ApiRouter(DefaultRouter):
    APIRootView = ApiRootView


router = ApiRouter()

app_name = "api"
urlpatterns = router.urls
