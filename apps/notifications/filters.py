import django_filters

from apps.core.filters import boolean_filter
from apps.notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    unread = boolean_filter(
        method="filter_unread", help_text="`true`: only unread messages; `false`: only read ones."
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value: bool):
        return queryset.filter(read_at__isnull=value)
