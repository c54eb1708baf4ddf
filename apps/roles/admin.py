from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.db.models import Count

from apps.core.validators import validate_visible_text
from apps.roles.models import Role


class RoleInline(admin.StackedInline):
    model = Role
    can_delete = False
    fields = ("description", "is_system", "created_at", "updated_at")
    readonly_fields = ("is_system", "created_at", "updated_at")
    verbose_name = "role"
    verbose_name_plural = "role"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and getattr(getattr(obj, "role", None), "is_system", False):
            return self.fields  # defined in code: apps/roles/spec.py
        return self.readonly_fields


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(DjangoGroupAdmin):
    """Roles: the group with its description, and a permission picker. System roles are protected."""

    inlines = [RoleInline]
    list_display = ("name", "description", "is_system", "user_count")
    list_filter = ("role__is_system",)
    search_fields = ("name", "role__description")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("role")
        return queryset.annotate(users=Count("user", distinct=True))

    @admin.display(description="description")
    def description(self, group: Group) -> str:
        return getattr(getattr(group, "role", None), "description", "")

    @admin.display(description="system", boolean=True)
    def is_system(self, group: Group) -> bool:
        return bool(getattr(getattr(group, "role", None), "is_system", False))

    @admin.display(description="users", ordering="users")
    def user_count(self, group: Group) -> int:
        return group.users

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "name" and field is not None:
            field.validators.append(validate_visible_text)  # Group.name is Django's own field
        return field

    def get_readonly_fields(self, request, obj=None):
        # System roles are defined in code; seed_permissions would undo any change made here.
        if obj is not None and self.is_system(obj):
            return ("name", "permissions")
        return ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.is_system(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset.exclude(role__is_system=True))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A group made in the admin is a role too.
        Role.objects.get_or_create(group=form.instance)
