from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.core.api import GenericViewSet, validated
from apps.roles import selectors, services
from apps.roles.filters import PermissionFilter
from apps.roles.serializers import PermissionSerializer, RoleSerializer, RoleWriteSerializer

MANAGE_ROLES = ["accounts.manage_roles"]
CONFLICT = OpenApiResponse(description="System roles cannot be renamed or deleted.")
# A role's primary key is its group's, which the schema generator cannot follow by itself.
ROLE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The role's id.")


def _role_response(role, *, status_code=status.HTTP_200_OK) -> Response:
    role = selectors.role_list().get(pk=role.pk)  # fresh, with permissions and user count
    return Response(RoleSerializer(role).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List roles with their permissions"),
    retrieve=extend_schema(summary="Read a role", parameters=[ROLE_ID]),
    create=extend_schema(
        request=RoleWriteSerializer, responses={201: RoleSerializer}, summary="Create a role"
    ),
    partial_update=extend_schema(
        parameters=[ROLE_ID],
        request=RoleWriteSerializer(partial=True),
        responses={200: RoleSerializer, 409: CONFLICT},
        summary="Change a role",
        description="`permissions`, when given, replaces the role's permissions.",
    ),
    destroy=extend_schema(
        parameters=[ROLE_ID], responses={204: None, 409: CONFLICT}, summary="Delete a role"
    ),
)
@extend_schema(tags=["roles"], description="Needs `accounts.manage_roles`.")
class RoleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    serializer_class = RoleSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    search_fields = ["group__name", "description"]
    ordering_fields = ["group__name", "created_at"]
    action_permissions = dict.fromkeys(
        ["list", "retrieve", "create", "partial_update", "destroy", "metadata"], MANAGE_ROLES
    )

    def get_queryset(self):
        return selectors.role_list()

    def create(self, request, *args, **kwargs):
        data = validated(RoleWriteSerializer, request)
        role = services.role_create(**data, actor=request.user, request=request)
        return _role_response(role, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = validated(RoleWriteSerializer, request, partial=True)
        role = services.role_update(role=self.get_object(), data=data, actor=request.user, request=request)
        return _role_response(role)

    def perform_destroy(self, instance):
        services.role_delete(role=instance, actor=self.request.user, request=self.request)


@extend_schema_view(list=extend_schema(summary="Every permission a role can hold"))
@extend_schema(tags=["roles"], description="Needs `accounts.manage_roles`.")
class PermissionViewSet(mixins.ListModelMixin, GenericViewSet):
    serializer_class = PermissionSerializer
    filterset_class = PermissionFilter
    search_fields = ["codename", "name"]
    action_permissions = {"list": MANAGE_ROLES, "metadata": MANAGE_ROLES}

    def get_queryset(self):
        return selectors.assignable_permissions()
