"""Production: PostgreSQL for all three databases, Redis for cache and broker, real workers.

Refuses to start without the settings that have no safe default.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *
from .base import DATABASES, LOG_LEVEL, REST_FRAMEWORK, STORAGES, env, internal_networks, logging_config

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

for _var in ("DATABASE_URL", "ANALYTICS_DATABASE_URL", "LOGS_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
    env(_var)  # raises ImproperlyConfigured when unset
for _alias, _config in DATABASES.items():
    if _config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"The {_alias!r} database must be PostgreSQL in production.")

REST_FRAMEWORK = {**REST_FRAMEWORK}

# --- HTTPS behind a TLS-terminating proxy ---------------------------------------------------------------
if env.bool("USE_X_FORWARDED_PROTO", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come from inside the network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"
# The schema, the docs and readiness details: loopback (the container's own probe) and staff only,
# unless INTERNAL_NETWORKS names the networks to serve them to.
INTERNAL_NETWORKS = internal_networks(["127.0.0.0/8", "::1/128"])

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="anymail.backends.amazon_ses.EmailBackend")
SMS_BACKEND = env("SMS_BACKEND", default="apps.notifications.sms.SNSSMSBackend")

LOGGING = logging_config(env("LOG_FORMAT", default="json"), LOG_LEVEL)
