import django_filters
from django.contrib.auth.models import Permission


class PermissionFilter(django_filters.FilterSet):
    app = django_filters.CharFilter(
        field_name="content_type__app_label", help_text="Only this app's permissions."
    )

    class Meta:
        model = Permission
        fields = ["app"]
