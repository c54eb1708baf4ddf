"""Cached public catalog responses, invalidated by a version number.

Every cache key embeds the catalog's current version; every write to a product, a category or a
stock level bumps the version once its transaction commits, so the next read misses and sees the
write, while the entries of older versions simply expire. No key is ever deleted one by one, so no
write can forget one.

When the version is missing (evicted, Redis flushed or unreachable) it restarts from the clock,
never from a number an older entry could still carry.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalog:version"


def _fresh_version() -> int:
    return time.time_ns()


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = _fresh_version()
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY) or version
    return version


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: any fresh one is newer than every cached entry
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)


def catalog_changed(using: str = "default") -> None:
    """Call inside the write's transaction: the version moves only if and when it commits."""
    transaction.on_commit(_bump, using=using)


def response_key(kind: str, request, parameters: frozenset[str] = frozenset()) -> str:
    """One key per catalog version, kind and URL (scheme, host, path and the sorted query).

    Only the query `parameters` that change the answer count: a parameter nothing reads (`?_=1`,
    `?utm_source=`) answers what the URL without it answers, and must not make a new entry, or
    anyone could miss the cache at will and send every read to the database.
    """
    query = sorted((name, values) for name, values in request.GET.lists() if name in parameters)
    url = f"{request.scheme}://{request.get_host()}{request.path}?{query!r}"
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"catalog:{catalog_version()}:{kind}:{digest}"


def cached_body(key: str) -> bytes | None:
    return cache.get(key)


def cache_body(key: str, body: bytes) -> None:
    cache.set(key, body, timeout=settings.CATALOG_CACHE_SECONDS)
