"""Throwaway endpoints that exercise the core API machinery in tests."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle

from apps.core import errors
from apps.core.exceptions import Conflict
from apps.logs.models import AuditLog


class ProbeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    count = serializers.IntegerField(min_value=0)


class OneAnonRequestPerMinute(AnonRateThrottle):
    rate = "1/minute"


class ProbeViewSet(viewsets.ViewSet):
    permission_classes = [AllowAny]

    def create(self, request):
        serializer = ProbeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)

    @action(detail=False, methods=["get"])
    def conflict(self, request):
        raise Conflict("That slot is taken.")

    @action(detail=False, methods=["get"])
    def crash(self, request):
        raise RuntimeError("secret internals: password=hunter2")

    @action(detail=False, methods=["get"])
    def model_validation(self, request):
        raise DjangoValidationError({"start": ["Start must be in the future."]})

    @action(detail=False, methods=["get"], url_path=r"refuse/(?P<kind>[a-z_]+)")
    def refuse(self, request, kind):
        """Raises the domain error named by the path, as a service would."""
        raise {
            "invalid_field": errors.InvalidInput({"email": ["Taken.", "Too long."], "name": "Blank."}),
            "invalid_whole": errors.InvalidInput("Choose a later time."),
            "unauthenticated": errors.AuthenticationFailed("Wrong code.", code="invalid_credentials"),
            "forbidden": errors.PermissionDenied("Verify your email first.", code="email_not_verified"),
            "missing": errors.NotFound(),
            "conflict": errors.Conflict("That slot is taken."),
            "limited": errors.RateLimited("Too many texts.", wait=90),
            "with_extra": errors.PermissionDenied(
                "Enrol first.", code="mfa_enrolment_required", extra_body={"mfa_token": "t0k3n"}
            ),
        }[kind]

    @action(detail=False, methods=["get"], throttle_classes=[OneAnonRequestPerMinute])
    def limited(self, request):
        return Response({"ok": True})


class PrivateViewSet(viewsets.ViewSet):
    def list(self, request):
        return Response([])

    @action(detail=False, methods=["get"], permission_classes=[AllowAny])
    def refuse(self, request):
        raise errors.AuthenticationFailed("Wrong code.", code="invalid_credentials")


class NoSchemeViewSet(viewsets.ViewSet):
    """A view with no authentication scheme to name in WWW-Authenticate."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def list(self, request):
        raise errors.AuthenticationFailed("Wrong code.")


class AuditTrailViewSet(viewsets.ReadOnlyModelViewSet):
    """A paginated list, to check the default page size rules."""

    permission_classes = [AllowAny]
    queryset = AuditLog.objects.order_by("id")

    class Serializer(serializers.ModelSerializer):
        class Meta:
            model = AuditLog
            fields = ["id", "action"]

    serializer_class = Serializer


router = SimpleRouter()
router.register("probe", ProbeViewSet, basename="probe")
router.register("private", PrivateViewSet, basename="private")
router.register("no-scheme", NoSchemeViewSet, basename="no-scheme")
router.register("trail", AuditTrailViewSet, basename="trail")

urlpatterns = [
    path("", include("config.urls")),
    path("test/", include(router.urls)),
]

handler400 = "apps.core.exceptions.bad_request"
handler403 = "apps.core.exceptions.permission_denied"
handler404 = "apps.core.exceptions.page_not_found"
handler500 = "apps.core.exceptions.server_error"
