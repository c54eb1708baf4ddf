from rest_framework.routers import SimpleRouter

from apps.accounts.views import AuthViewSet, SessionViewSet, TwoFactorViewSet, UserViewSet

router = SimpleRouter()
router.register("auth", AuthViewSet, basename="auth")
router.register("auth/2fa", TwoFactorViewSet, basename="two-factor")
router.register("auth/sessions", SessionViewSet, basename="session")
router.register("users", UserViewSet, basename="user")
