import django_filters

from apps.core.filters import DateTimeFilter, IdFilter
from apps.logs.models import AuditLog


class AuditLogFilter(django_filters.FilterSet):
    actor = IdFilter(field_name="actor_id", help_text="The acting user's id.")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "target_type", "target_id", "request_id"]
