from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from apps.core.api import GenericViewSet
from apps.core.filters import DjangoFilterBackend
from apps.core.pagination import CursorPagination
from apps.logs.filters import AuditLogFilter
from apps.logs.models import AuditLog
from apps.logs.serializers import AuditLogSerializer


@extend_schema_view(
    list=extend_schema(
        summary="The audit trail, newest first",
        description=(
            "Needs `logs.view_auditlog`. `created_after` and `created_before` take any UTC offset and "
            "compare the instant; a time outside years 1-9999 in UTC is a 400, as is an `actor` outside "
            "1..2^63-1."
        ),
    ),
    retrieve=extend_schema(summary="One audit entry", description="Needs `logs.view_auditlog`."),
)
@extend_schema(tags=["audit"])
class AuditLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    # The trail is searched by its filters and always newest first: no `search`, no `ordering`.
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditLogFilter
    pagination_class = CursorPagination
