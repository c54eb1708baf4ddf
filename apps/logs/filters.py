import django_filters

from apps.core.filters import BoundedIsoDateTimeFilter, IntegerFilter
from apps.logs.models import AuditLog


class AuditLogFilter(django_filters.FilterSet):
    actor = IntegerFilter(field_name="actor_id")
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "target_type", "target_id", "request_id"]
