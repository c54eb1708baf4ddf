from rest_framework.routers import SimpleRouter

from apps.accounts.views import AuthViewSet, TwoFactorViewSet, UserViewSet

router = SimpleRouter()
router.register("auth", AuthViewSet, basename="auth")
router.register("auth/2fa", TwoFactorViewSet, basename="two-factor")
router.register("users", UserViewSet, basename="user")
