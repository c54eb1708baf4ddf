"""Role fixtures."""

import pytest


def system_role_permissions() -> list[str]:
    """Every permission the manager, provider and customer roles hold, as apps/roles/spec.py
    declares them: a new app's entries there are handed out by these tests too."""
    from fnmatch import fnmatchcase

    from apps.roles.selectors import assignable_permissions, permission_name
    from apps.roles.spec import SYSTEM_ROLES

    patterns = [
        pattern for role, spec in SYSTEM_ROLES.items() if role != "admin" for pattern in spec.permissions
    ]
    names = (permission_name(permission) for permission in assignable_permissions())
    return [name for name in names if any(fnmatchcase(name, pattern) for pattern in patterns)]


@pytest.fixture
def role_manager(make_user):
    # Holds what the tests hand out: nobody can grant a permission they do not hold.
    return make_user(
        "accounts.manage_roles", "accounts.view_user", "logs.view_auditlog", *system_role_permissions()
    )
