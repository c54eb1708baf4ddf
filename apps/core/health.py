"""Liveness and readiness probes for load balancers and orchestrators.

Plain Django views outside the API: no authentication, no throttling, no database
transaction (a readiness probe must be able to report a database that is down). Readiness
names each dependency and its latency only to those who `sees_internals` (apps/core/internal.py);
anyone else gets the same status code and `{"status": ...}` alone.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.internal import sees_internals

BROKER_TIMEOUT_SECONDS = 2


def _database(alias: str) -> Callable[[], None]:
    def check() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return check


def _cache() -> None:
    if settings.CACHES["default"]["BACKEND"].startswith("django_redis"):
        # The general cache ignores Redis errors, so ask the server directly.
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return
    cache.set("health:probe", "1", 5)
    if cache.get("health:probe") != "1":
        raise RuntimeError("cache round-trip failed")


def _broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks = {f"database:{alias}": _database(alias) for alias in settings.DATABASES}
    checks["cache"] = _cache
    if settings.HEALTH_CHECK_BROKER:
        checks["broker"] = _broker
    return checks


def run_check(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; its class names the cause without internals
        result = {"status": "fail", "error": exc.__class__.__name__}
    else:
        result = {"status": "ok"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


@never_cache
@require_safe
def liveness(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readiness(request):
    results = {name: run_check(check) for name, check in readiness_checks().items()}
    failing = [name for name, result in results.items() if result["status"] != "ok"]
    body = {"status": "fail" if failing else "ok"}
    if sees_internals(request):
        body["checks"] = results
        if failing:
            body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
