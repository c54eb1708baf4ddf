from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, QuerySet

from apps.roles.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User

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


def users_with_role(role_name: str) -> "QuerySet[User]":
    """The active users holding the role `role_name` (a `SystemRole` for the roles other apps rely
    on), each once: a user holds a group at most once."""
    return get_user_model().objects.filter(is_active=True, groups__name=role_name)


def holds_role(user: "User | AnonymousUser | None", role_name: str) -> bool:
    """Whether `user` is signed in, active and holds the role `role_name`."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.groups.filter(name=role_name).exists()
    )
