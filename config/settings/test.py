"""Test settings: fast hashing, in-memory email and SMS, eager Celery.

The databases and the cache come from the environment like everywhere else, so the same
suite runs on the embedded SQLite default and on real PostgreSQL and Redis.
"""

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
