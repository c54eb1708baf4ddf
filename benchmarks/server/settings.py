"""The production settings, with the floor's URLs added. For the benchmark's gunicorn only.

Celery's broker keys get the run's key prefix (the cache's, `CACHE_KEY_PREFIX`), so that the tasks
a benchmark queues (the bookings scenario's notifications) neither reach a worker that happens to
watch the same Redis nor outlive the run: the stack deletes every key under its prefix at the end.
"""

from config.settings.prod import *  # noqa: F403
from config.settings.prod import CACHES

ROOT_URLCONF = "benchmarks.server.urls"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    "global_keyprefix": f"{CACHES['default']['KEY_PREFIX']}:celery:",
}
