"""Test settings: fast hashing, in-memory email and SMS, eager Celery.

The databases and the cache come from the environment like everywhere else, so the same
suite runs on the embedded SQLite default and on real PostgreSQL and Redis.
"""

import os

from .base import *
from .base import REST_FRAMEWORK

DEBUG = False
SECRET_KEY = "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Collected in apps.notifications.sms.outbox, which each test empties itself.
SMS_BACKEND = "apps.notifications.sms.LocmemSMSBackend"

# Unit tests run tasks in-process; tests/core/test_celery.py round-trips a real worker.
CELERY_TASK_ALWAYS_EAGER = True

REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}

# Static files come straight from the apps; collectstatic is for production images.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Under pytest-xdist (`make test` runs the suite on several processes) the processes share one
# Redis: each keeps its keys under its own prefix, and clearing its cache deletes only those, where
# django-redis would flush the whole database under the other processes' running tests.
if REDIS_URL:
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    _prefix = CACHES["default"]["KEY_PREFIX"] + (f":{_worker}" if _worker else "")
    for _alias, _suffix in (("default", ""), ("throttle", ":throttle")):
        CACHES[_alias] = {
            **CACHES[_alias],
            "KEY_PREFIX": _prefix + _suffix,
            "OPTIONS": {**CACHES[_alias]["OPTIONS"], "CLIENT_CLASS": "tests.cache_client.PrefixScopedClient"},
        }
