from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from apps.analytics.models import LoginEvent
from apps.analytics.selectors import login_stats
from apps.analytics.serializers import LoginStatsQuerySerializer, LoginStatsSerializer


@extend_schema(tags=["analytics"])
class LoginStatsViewSet(viewsets.ViewSet):
    """Login statistics from the analytics database. Needs `analytics.view_loginevent`."""

    permission_model = LoginEvent

    @extend_schema(
        parameters=[LoginStatsQuerySerializer],
        responses=LoginStatsSerializer,
        summary="Login statistics",
        description="Successful and failed sign-ins per day over the last `days`, for everyone or one "
        "`user`. Needs `analytics.view_loginevent`.",
    )
    def list(self, request):
        # A plain dict: given a QueryDict, DRF reads `?days=` like an empty form field, as "not
        # given". In a URL it is a mistake, and a 400 says so.
        query = LoginStatsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        stats = login_stats(days=query.validated_data["days"], user_id=query.validated_data.get("user"))
        return Response(LoginStatsSerializer(stats).data)
