"""Small building blocks for ViewSets."""

from rest_framework.decorators import action
from rest_framework.permissions import AllowAny


def public_action(**kwargs):
    """A ViewSet action anyone may call without a token: sign-in, refresh, password reset.

    No authentication runs at all, so a stale or broken `Authorization` header that a client
    sends along does not stand between it and the endpoint that would fix it.
    """
    return action(authentication_classes=[], permission_classes=[AllowAny], **kwargs)
