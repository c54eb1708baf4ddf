"""Role writes: seeding the system roles, role CRUD, and giving users their roles.

Every change is recorded in the audit trail with the state before and after.
"""

# The user model is named in annotations only (roles sits below accounts and never imports it).
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from apps.logs.services import audit
from apps.logs.snapshots import diff
from apps.roles.models import Role
from apps.roles.selectors import assignable_permissions, permission_name, role_list
from apps.roles.spec import DEFAULT_ROLE, SYSTEM_ROLES, RoleSpec

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- Seeding --------------------------------------------------------------------------------------------
@dataclass
class RoleChange:
    role: str
    created: bool = False
    description_changed: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or self.description_changed or bool(self.added or self.removed)


def _matching(patterns: tuple[str, ...], available: dict[str, Permission]) -> set[str]:
    return {name for name in available if any(fnmatchcase(name, pattern) for pattern in patterns)}


def _seed_role(name: str, spec: RoleSpec, available: dict[str, Permission], *, apply: bool) -> RoleChange:
    change = RoleChange(role=name)
    group = Group.objects.filter(name=name).first()
    role = Role.objects.filter(group=group).first() if group else None
    current = (
        {permission_name(p) for p in group.permissions.select_related("content_type")} if group else set()
    )
    wanted = _matching(spec.permissions, available)
    change.created = group is None or role is None
    change.description_changed = role is not None and role.description != spec.description
    change.added = sorted(wanted - current)
    # System roles are defined by code: what is not declared goes, also if added by hand.
    change.removed = sorted(current - wanted)
    if apply and change.changed:
        group = group or Group.objects.create(name=name)
        Role.objects.update_or_create(
            group=group, defaults={"description": spec.description, "is_system": True}
        )
        group.permissions.add(*(available[p] for p in change.added))
        group.permissions.remove(*(available[p] for p in change.removed))
        audit(
            action="role.seed",
            target=group.role,
            changes={"permissions": [sorted(current), sorted(wanted)]}
            if change.added or change.removed
            else {},
        )
    return change


@transaction.atomic
def roles_seed(*, dry_run: bool = False) -> list[RoleChange]:
    """Create or update the system roles from the spec. Non-system roles are never touched."""
    available = {permission_name(p): p for p in assignable_permissions()}
    return [_seed_role(name, spec, available, apply=not dry_run) for name, spec in SYSTEM_ROLES.items()]


def default_role() -> Role:
    """The role every new registration gets, created from the spec if it was never seeded."""
    role = Role.objects.select_related("group").filter(group__name=DEFAULT_ROLE).first()
    if role is None:
        available = {permission_name(p): p for p in assignable_permissions()}
        try:
            with transaction.atomic():
                _seed_role(DEFAULT_ROLE, SYSTEM_ROLES[DEFAULT_ROLE], available, apply=True)
        except IntegrityError:
            pass  # a concurrent first registration created it
        role = Role.objects.select_related("group").get(group__name=DEFAULT_ROLE)
    return role


# --- Role CRUD ------------------------------------------------------------------------------------------
def _permissions_by_name(names: list[str]) -> list[Permission]:
    available = {permission_name(p): p for p in assignable_permissions()}
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise InvalidInput(
            {"permissions": [_("Unknown permission: %(name)s.") % {"name": n} for n in unknown]}
        )
    return [available[name] for name in names]


def _state(role: Role) -> dict[str, Any]:
    return {
        "name": role.group.name,
        "description": role.description,
        "permissions": sorted(
            permission_name(p) for p in role.group.permissions.select_related("content_type")
        ),
    }


def _save_group_name(group: Group) -> None:
    """Role names are unique ignoring case: checked here for a clear error, guaranteed by a unique
    index on LOWER(name) (migration roles 0002), which also settles two concurrent creations."""
    taken = Group.objects.alias(name_lower=Lower("name")).filter(name_lower=Lower(Value(group.name)))
    if taken.exclude(pk=group.pk).exists():
        raise InvalidInput({"name": [_("A role with that name already exists.")]})
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise InvalidInput({"name": [_("A role with that name already exists.")]}) from exc


def _ensure_holds(actor: User | None, permission_names: Iterable[str]) -> None:
    """Nobody hands out, or takes away, a permission they do not hold themselves (superusers hold
    them all): someone who may manage roles could otherwise strip a role of duties they cannot
    judge, or escalate by handing out more than they have."""
    if actor is None or actor.is_superuser:
        return
    missing = sorted(set(permission_names) - actor.get_all_permissions())
    if missing:
        raise PermissionDenied(
            _("You cannot grant or remove permissions you do not hold: %(names)s.")
            % {"names": ", ".join(missing)}
        )


@transaction.atomic
def role_create(
    *,
    name: str,
    description: str = "",
    permissions: Sequence[str] = (),
    actor: User,
    request: HttpRequest | Request | None = None,
) -> Role:
    granted = _permissions_by_name(list(permissions))
    _ensure_holds(actor, permissions)
    group = Group(name=name)
    _save_group_name(group)
    group.permissions.set(granted)
    role = Role.objects.create(group=group, description=description, is_system=False)
    audit(action="role.create", actor=actor, target=role, changes=diff({}, _state(role)), request=request)
    return role


@transaction.atomic
def role_update(
    *, role: Role, data: dict[str, Any], actor: User, request: HttpRequest | Request | None = None
) -> Role:
    role = Role.objects.select_for_update().select_related("group").get(pk=role.pk)
    if role.is_system:
        # seed_permissions would undo any change on the next deploy: change apps/roles/spec.py.
        raise Conflict(_("System roles are defined in code and cannot be changed here."))
    before = _state(role)
    if "name" in data and data["name"] != role.group.name:
        role.group.name = data["name"]
        _save_group_name(role.group)
    if "description" in data:
        role.description = data["description"]
    if "permissions" in data:
        granted = _permissions_by_name(data["permissions"])
        _ensure_holds(actor, set(data["permissions"]) ^ set(before["permissions"]))
        role.group.permissions.set(granted)
    changes = diff(before, _state(role))
    if changes:
        role.save(update_fields=["description", "updated_at"])  # also when only permissions changed
        audit(action="role.update", actor=actor, target=role, changes=changes, request=request)
    return role


@transaction.atomic
def role_delete(*, role: Role, actor: User, request: HttpRequest | Request | None = None) -> None:
    if role.is_system:
        raise Conflict(_("System roles cannot be deleted."))
    before = _state(role)
    target_id = role.pk
    role.group.delete()  # the role goes with its group
    audit(
        action="role.delete",
        actor=actor,
        target_type=Role._meta.label_lower,
        target_id=target_id,
        changes=diff(before, dict.fromkeys(before)),
        request=request,
    )


# --- Users' roles ---------------------------------------------------------------------------------------
# The rules of every change to a user's roles, whether the whole set is replaced or one role is added
# or removed: only a superuser changes a superuser's roles, and the caller must hold every permission
# of each role that comes or goes. One audit action, `user.roles_update`, with the names before and
# after; the permission cache forgets the user through the `m2m_changed` receiver (receivers.py).
def user_roles_change_check(*, user: User, changed: set[str], actor: User) -> None:
    """Refuse (PermissionDenied) a change to `user`'s roles that `actor` may not make; `changed`
    names the roles that would come or go. Also what a form asks before it saves."""
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can change a superuser's roles."))
    changed_permissions = Permission.objects.filter(group__name__in=changed).select_related("content_type")
    _ensure_holds(actor, {permission_name(p) for p in changed_permissions})


def _audit_roles(
    *, user: User, before: list[str], after: list[str], actor: User, request: HttpRequest | None
) -> None:
    if before != after:
        audit(
            action="user.roles_update",
            actor=actor,
            target=user,
            changes={"roles": [before, after]},
            request=request,
        )


def _role_names_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _locked_user(user: User) -> User:
    """The user's row, locked until the transaction ends: two changes to one user's roles run one
    after the other, so each reads (and audits) the roles the other left."""
    return type(user).objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def user_roles_set(
    *, user: User, role_names: list[str], actor: User, request: HttpRequest | Request | None = None
) -> list[Role]:
    """Replace the user's roles with exactly these."""
    roles = list(role_list().filter(group__name__in=set(role_names)))
    unknown = sorted(set(role_names) - {role.name for role in roles})
    if unknown:
        raise InvalidInput({"roles": [_("Unknown role: %(name)s.") % {"name": n} for n in unknown]})
    before = _role_names_of(user)
    user_roles_change_check(user=user, changed=set(before) ^ {role.name for role in roles}, actor=actor)
    user.groups.set([role.group for role in roles])
    _audit_roles(
        user=user, before=before, after=sorted(role.name for role in roles), actor=actor, request=request
    )
    return roles


def _role_named(name: str) -> Role | None:
    if "\x00" in name:  # no role has one, and PostgreSQL refuses the character in a query
        return None
    return Role.objects.select_related("group").filter(group__name=name).first()


@transaction.atomic
def user_role_add(*, user: User, role_name: str, actor: User, request: HttpRequest | None = None) -> bool:
    """Give the user one more role, keeping the others. True when it was added, False when the user
    held it already (nothing changes, nothing is audited). An unknown role is a 400 on `role`."""
    role = _role_named(role_name)
    if role is None:
        raise InvalidInput({"role": [_("Unknown role: %(name)s.") % {"name": role_name}]})
    user = _locked_user(user)
    before = _role_names_of(user)
    if role.name in before:
        return False
    user_roles_change_check(user=user, changed={role.name}, actor=actor)
    user.groups.add(role.group)
    _audit_roles(user=user, before=before, after=sorted([*before, role.name]), actor=actor, request=request)
    return True


@transaction.atomic
def user_role_remove(*, user: User, role_name: str, actor: User, request: HttpRequest | None = None) -> None:
    """Take one role from the user, keeping the others. A role that does not exist, or that the user
    does not hold, is a 404: there is no such role of theirs to remove."""
    role = _role_named(role_name)
    user = _locked_user(user)
    before = _role_names_of(user)
    if role is None or role.name not in before:
        raise NotFound(_("The user does not hold a role named %(name)s.") % {"name": role_name})
    user_roles_change_check(user=user, changed={role.name}, actor=actor)
    user.groups.remove(role.group)
    _audit_roles(
        user=user,
        before=before,
        after=[name for name in before if name != role.name],
        actor=actor,
        request=request,
    )


def user_role_grant_default(*, user: User) -> None:
    user.groups.add(default_role().group)
