from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, PermissionsMixin
from django.db.models import Count, Prefetch, QuerySet

from apps.roles.backends import role_names
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


@dataclass(frozen=True)
class UserAccess:
    """What a user may do, as they are told it (`users/me/permissions/`)."""

    is_superuser: bool
    roles: list[str]
    permissions: list[str]


def user_access(user: PermissionsMixin) -> UserAccess:
    """`user`'s role names and effective permissions (`app_label.codename`, both sorted), from the
    permission cache (apps/roles/backends.py): no query once cached, three at most before.

    The permissions are those of the user's roles and their direct ones, exactly the set every
    permission check reads. A superuser passes every check whatever they hold; their set is every
    permission that exists, and `is_superuser` says that checks of names beyond it pass too.
    """
    return UserAccess(
        is_superuser=bool(getattr(user, "is_superuser", False)),
        roles=role_names(user),
        permissions=sorted(user.get_all_permissions()),
    )
