from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, QuerySet

from apps.roles.models import Role

# Django's own plumbing, not things anyone should hand out through a role.
UNASSIGNABLE_APPS = ("admin", "contenttypes", "sessions", "token_blacklist")


def permission_name(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def assignable_permissions() -> QuerySet[Permission]:
    return (
        Permission.objects.select_related("content_type")
        .exclude(content_type__app_label__in=UNASSIGNABLE_APPS)
        .order_by("content_type__app_label", "codename")
    )


def role_list() -> QuerySet[Role]:
    """Roles with their permissions and user counts, in a fixed number of queries."""
    return (
        Role.objects.select_related("group")
        .annotate(user_count=Count("group__user", distinct=True))
        .prefetch_related(
            Prefetch("group__permissions", queryset=Permission.objects.select_related("content_type"))
        )
        .order_by("group__name")
    )
