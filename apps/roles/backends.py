"""Django's ModelBackend with each user's permission set cached across requests.

Checking a permission costs Django two queries (the user's own permissions and their
groups' permissions) on the first check of every request. The set changes rarely, so it
is cached (Redis in production), each entry with the global version number it was computed
under, read together with the current version in one round trip:

- a change to one user's groups or direct permissions deletes that user's entry;
- a change to any group's permissions, or a group's deletion, bumps the version, which
  retires every entry at once (see receivers.py).

The names of the user's roles (`role_names`) are cached the same way beside the set, and
forgotten with it; a role renamed also bumps the version.

When the cache is unavailable the set is simply read from the database. The two entries are
read in the general throttle's round trip when there is one (`PermissionsReadAlong`), which a
signed-in read makes together with the auth cache's.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import PermissionsMixin
from django.core.cache import cache
from django.db import transaction

from apps.core.throttles import ReadAlong

CACHE_TIMEOUT_SECONDS = 5 * 60
VERSION_KEY = "perms:version"


def _key(user_id: int) -> str:
    return f"perms:user:{user_id}"


def _roles_key(user_id: int) -> str:
    return f"perms:roles:{user_id}"


def _forget_user_now(user_id: int) -> None:
    cache.delete_many([_key(user_id), _roles_key(user_id)])


def _forget_everyone_now() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): start a version no entry was stored under
        cache.set(VERSION_KEY, 2, None)


# Forgotten twice: at once, and again after the change commits. A request that read the old,
# still-committed permissions in between would otherwise cache them for the full timeout.
def forget_user(user_id: int) -> None:
    _forget_user_now(user_id)
    transaction.on_commit(lambda: _forget_user_now(user_id), robust=True)


def forget_everyone() -> None:
    _forget_everyone_now()
    transaction.on_commit(_forget_everyone_now, robust=True)


def remember(user_id: int, permissions: set[str], version: int) -> None:
    cache.set(_key(user_id), (version, permissions), CACHE_TIMEOUT_SECONDS)


def _cached(user_id: int, found: dict | None = None) -> tuple[set[str] | None, int]:
    """The cached set (None when absent or of an older version) and the current version, in one
    round trip (none when `found` holds the two entries already): the entry carries the version
    it was computed under."""
    if found is None:
        found = cache.get_many([VERSION_KEY, _key(user_id)])
    return _current(found, _key(user_id))


def _current(found: dict, key: str) -> tuple[Any, int]:
    """The value of entry `key` in `found` (None when absent or of an older version) and the
    current version."""
    version = found.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, None)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return entry[1], version
    return None, version


def role_names(user: PermissionsMixin) -> list[str]:
    """The names of the roles (groups) `user` holds, sorted; from the cache, else one query, then
    cached under the current version like the permission set."""
    key = _roles_key(user.pk)
    names, version = _current(cache.get_many([VERSION_KEY, key]), key)
    if names is None:
        names = sorted(user.groups.values_list("name", flat=True))
        cache.set(key, (version, names), CACHE_TIMEOUT_SECONDS)
    return list(names)


class CachedModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        permissions, version = _cached(user_obj.pk, getattr(user_obj, "_perm_entries", None))
        if permissions is None:
            permissions = super().get_all_permissions(user_obj)
            remember(user_obj.pk, permissions, version)
        user_obj._perm_cache = permissions
        return permissions


class PermissionsReadAlong(ReadAlong):
    """The signed-in caller's two entries, read with the general throttle's counter."""

    def keys(self, request) -> list[str]:
        user = request.user
        # A superuser or an inactive user is decided without the set; a set already read is kept.
        decided = not user.is_authenticated or not user.is_active or user.is_superuser
        if decided or hasattr(user, "_perm_cache"):
            return []
        return [VERSION_KEY, _key(user.pk)]

    def keys_for_user(self, user_id: int) -> list[str]:
        # Whether the set will be needed is not known yet; the two entries are small.
        return [VERSION_KEY, _key(user_id)]

    def receive(self, request, values: dict) -> None:
        request.user._perm_entries = values
