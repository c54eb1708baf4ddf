"""Django's ModelBackend with each user's permission set cached across requests.

Checking a permission costs Django two queries (the user's own permissions and their
groups' permissions) on the first check of every request. The set changes rarely, so it
is cached (Redis in production) under a key that includes a global version number:

- a change to one user's groups or direct permissions deletes that user's entry;
- a change to any group's permissions, or a group's deletion, bumps the version, which
  retires every entry at once (see receivers.py).

When the cache is unavailable the set is simply read from the database.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

CACHE_TIMEOUT_SECONDS = 5 * 60
VERSION_KEY = "perms:version"


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, None)
    return version


def _key(user_id: int) -> str:
    return f"perms:{_version()}:user:{user_id}"


def _forget_user_now(user_id: int) -> None:
    cache.delete(_key(user_id))


def _forget_everyone_now() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): the next read starts a fresh version
        cache.set(VERSION_KEY, 2, None)


# Forgotten twice: at once, and again after the change commits. A request that read the old,
# still-committed permissions in between would otherwise cache them for the full timeout.
def forget_user(user_id: int) -> None:
    _forget_user_now(user_id)
    transaction.on_commit(lambda: _forget_user_now(user_id), robust=True)


def forget_everyone() -> None:
    _forget_everyone_now()
    transaction.on_commit(_forget_everyone_now, robust=True)


class CachedModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        key = _key(user_obj.pk)
        permissions = cache.get(key)
        if permissions is None:
            permissions = super().get_all_permissions(user_obj)
            cache.set(key, permissions, CACHE_TIMEOUT_SECONDS)
        user_obj._perm_cache = permissions
        return permissions
