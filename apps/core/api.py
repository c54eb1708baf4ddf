"""Small building blocks for ViewSets."""

from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body validated by `serializer_class`; a 400 with field errors otherwise."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def public_action(**kwargs):
    """A ViewSet action anyone may call without a token: sign-in, refresh, password reset.

    No authentication runs at all, so a stale or broken `Authorization` header that a client
    sends along does not stand between it and the endpoint that would fix it.
    """
    return action(authentication_classes=[], permission_classes=[AllowAny], **kwargs)


class GenericViewSet(viewsets.GenericViewSet):
    """DRF's GenericViewSet, with the filter backends run only for `list`.

    DRF's get_object() runs them too, so every retrieve, update and custom detail action built a
    django-filter form and parsed search and ordering parameters that cannot apply to one object.
    """

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)
