import django_filters

from apps.accounts.models import User
from apps.core.filters import boolean_filter


class UserFilter(django_filters.FilterSet):
    is_active = boolean_filter()

    class Meta:
        model = User
        fields = ["is_active"]
