from django.contrib.auth.models import Permission
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core import fields
from apps.core.validators import validate_visible_text
from apps.roles.models import Role
from apps.roles.selectors import permission_name


@extend_schema_serializer(description="A permission a role can grant.")
class PermissionSerializer(fields.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="`app_label.codename`, the name roles use.")
    app_label = fields.CharField(source="content_type.app_label")
    model = fields.CharField(source="content_type.model")
    description = fields.CharField(source="name")

    class Meta:
        model = Permission
        fields = ["name", "app_label", "model", "codename", "description"]
        read_only_fields = fields

    def get_name(self, permission: Permission) -> str:
        return permission_name(permission)


@extend_schema_serializer(
    description="A named set of permissions; system roles cannot be renamed or deleted."
)
class RoleSerializer(fields.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    name = fields.CharField(source="group.name")
    permissions = serializers.SerializerMethodField()
    user_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "description",
            "is_system",
            "permissions",
            "user_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_permissions(self, role: Role) -> list[str]:
        return sorted(permission_name(p) for p in role.group.permissions.all())


class RoleWriteSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Role"  # only ever a request: `RoleRequest`

    name = fields.CharField(max_length=150, validators=[validate_visible_text])
    description = fields.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=Role._meta.get_field("description").max_length,
    )
    permissions = serializers.ListField(
        child=fields.CharField(max_length=255),
        required=False,
        default=list,
        max_length=1000,
        help_text="Permission names, `app_label.codename`; see permissions/.",
    )


class UserRolesSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=fields.CharField(max_length=150), max_length=100, help_text="Role names; replaces all."
    )


@extend_schema_serializer(description="What you may do: your roles and every permission you hold.")
class UserAccessSerializer(serializers.Serializer):
    is_superuser = serializers.BooleanField(
        read_only=True, help_text="A superuser passes every permission check, listed or not."
    )
    roles = serializers.ListField(child=fields.CharField(), read_only=True, help_text="Role names, sorted.")
    permissions = serializers.ListField(
        child=fields.CharField(),
        read_only=True,
        help_text="Every permission held through a role or directly, `app_label.codename`, sorted; "
        "for a superuser, every permission there is.",
    )


class UserRoleSerializer(serializers.Serializer):
    role = fields.CharField(max_length=150, help_text="A role's name; the user keeps their other roles.")
