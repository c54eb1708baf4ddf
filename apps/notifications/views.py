from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import GenericViewSet, validated
from apps.core.filters import DjangoFilterBackend
from apps.notifications import selectors, services
from apps.notifications.filters import NotificationFilter
from apps.notifications.models import Notification
from apps.notifications.pagination import InboxPagination
from apps.notifications.serializers import NotificationSerializer, PreferencesSerializer, ReadAllSerializer

OWN = "Your own in-app messages only; anyone else's is a 404."


@extend_schema_view(
    list=extend_schema(summary="Your in-app messages", description=f"Newest first. {OWN}"),
    retrieve=extend_schema(summary="Read one in-app message", description=OWN),
)
@extend_schema(tags=["notifications"])
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = Notification.objects.none()  # for the schema; get_queryset scopes to the caller
    serializer_class = NotificationSerializer
    pagination_class = InboxPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilter
    action_permissions = {"list": [], "retrieve": [], "read": [], "read_all": [], "preferences": []}

    def get_queryset(self):
        return selectors.inbox(user=self.request.user)

    @extend_schema(
        request=None,
        responses={200: NotificationSerializer},
        summary="Mark a message read",
        description=f"Answers the message with its `read_at`; marking it again changes nothing. {OWN}",
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses={200: ReadAllSerializer},
        summary="Mark every message read",
        description="Marks every unread message of yours read and says how many there were.",
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})

    @extend_schema(
        methods=["GET"],
        responses={200: PreferencesSerializer},
        summary="Your preferences",
        description="For each category of message, whether it reaches you by email, text message and "
        "in-app message.",
    )
    @extend_schema(
        methods=["PATCH"],
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer},
        summary="Change your message preferences",
        description="Name only the categories and channels that change. Sign-in codes, reset links "
        "and address confirmations are sent whatever these say.",
    )
    @action(detail=False, methods=["get", "patch"])
    def preferences(self, request):
        if request.method == "PATCH":
            changes = validated(PreferencesSerializer, request)
            return Response(services.preferences_update(user=request.user, changes=changes))
        return Response(selectors.preferences_for(request.user))
