import django_filters

from apps.accounts.models import User

BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


class UserFilter(django_filters.FilterSet):
    # A typed choice, so `?is_active=maybe` is a 400 instead of being silently ignored.
    is_active = django_filters.TypedChoiceFilter(
        choices=BOOLEAN_CHOICES, coerce=lambda value: value == "true"
    )

    class Meta:
        model = User
        fields = ["is_active"]
