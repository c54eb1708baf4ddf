"""Settings shared by every environment.

Everything that differs between machines is read from the environment (or a
git-ignored ``.env`` file) through django-environ; each variable is listed with
its meaning and default in ``.env.example`` and the README.
"""

import ipaddress
import logging
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# --- Core -----------------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# Dev and test override this with a fixed throwaway value; prod requires SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="")
# Earlier keys, still accepted for what they signed or encrypted, while SECRET_KEY is rotated.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
ENVIRONMENT_NAME = env("ENVIRONMENT_NAME", default="local")
# The product's name as people see it: email subjects and bodies, the admin header.
SITE_NAME = env("SITE_NAME", default="Backend")
ADMIN_URL = env("ADMIN_URL", default="admin/")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.roles.backends.CachedModelBackend"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

DJANGO_APPS = [
    "apps.accounts.admin_apps.AdminConfig",  # django.contrib.admin with a throttled, two-factor login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram search on PostgreSQL; harmless on SQLite
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "anymail",
]
LOCAL_APPS = [
    "apps.core",
    "apps.accounts",
    "apps.roles",
    "apps.products",
    "apps.bookings",
    "apps.notifications",
    "apps.analytics",
    "apps.logs",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    # Outside everything that can answer, so that every answer is covered.
    "apps.core.middleware.BodylessResponseMiddleware",
    "apps.core.middleware.NoStoreMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, whose APPEND_SLASH redirect it replaces under /api/.
    "apps.core.middleware.ApiPathMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.environment",
            ],
        },
    },
]

# --- Databases ------------------------------------------------------------------------------------------
# Three aliases: `default` holds everything transactional, `analytics` login and usage events,
# `logs` the audit trail and application log. With no URLs set, three SQLite files under var/.
DB_CONN_MAX_AGE = env.int("DB_CONN_MAX_AGE", default=60)
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=5)
# The side databases are written fail-soft from inside requests, so they get a short connect
# timeout: an unreachable log server must cost a request seconds, not a minute.
SIDE_DB_CONNECT_TIMEOUT = env.int("SIDE_DB_CONNECT_TIMEOUT", default=2)
# After a side database failed to connect, skip its writes for this long before trying again.
SIDE_DB_RETRY_SECONDS = env.int("SIDE_DB_RETRY_SECONDS", default=30)


def database(var: str, sqlite_name: str, *, connect_timeout: int) -> dict:
    config = env.db_url(var, default=f"sqlite:///{VAR_DIR / sqlite_name}")
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["connect_timeout"] = connect_timeout
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the dev server read while a worker writes; IMMEDIATE avoids upgrade deadlocks.
        config.setdefault("OPTIONS", {}).update(
            {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
        )
    # No ATOMIC_REQUESTS: every service is one transaction of its own, so a read holds none and
    # a service can commit what must stand (a revoked token family) and still answer an error.
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {
    "default": database("DATABASE_URL", "default.sqlite3", connect_timeout=DB_CONNECT_TIMEOUT),
    "analytics": database(
        "ANALYTICS_DATABASE_URL", "analytics.sqlite3", connect_timeout=SIDE_DB_CONNECT_TIMEOUT
    ),
    "logs": database("LOGS_DATABASE_URL", "logs.sqlite3", connect_timeout=SIDE_DB_CONNECT_TIMEOUT),
}
DATABASE_ROUTERS = ["config.db_router.DatabaseRouter"]
# app label -> database alias; every app not named here lives in `default`.
DATABASE_APPS_MAPPING = {
    "analytics": "analytics",
    "logs": "logs",
}

# --- Cache ----------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="backend"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis outage degrades the general cache to misses instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    # Security throttles (login, password reset, ...) must see Redis errors to fall back to
    # `throttle_fallback` instead of silently allowing everything; see apps/core/throttles.py.
    CACHES["throttle"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="backend") + ":throttle",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "backend"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"},
    }
# A read takes the signed-in user's row and session state from Redis for up to this long, and
# forgets them when they change (apps/accounts/auth_cache.py); 0 reads the database every time.
AUTH_CACHE_SECONDS = env.int("AUTH_CACHE_SECONDS", default=30)
CACHES["throttle_fallback"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "throttle-fallback",
}

# --- Auth -----------------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "apps.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Password reset links expire after an hour; email verification links after three days.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 60 * 60)
# Links in emails point at the client application, which posts uid and token back to the API.
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000").rstrip("/")

# --- Leaving -------------------------------------------------------------------------------------------
# A closed account (DELETE users/me/) can be reactivated for this many days; then it is erased.
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=30)
# GET users/me/export/ gives at most this many rows of each list (the newest), and says which it cut.
ACCOUNT_EXPORT_MAX_ROWS = env.int("ACCOUNT_EXPORT_MAX_ROWS", default=1000)

# --- Phone numbers --------------------------------------------------------------------------------------
# Stored in E.164 (+447911123456) through django-phonenumber-field. A number typed without its
# country code ("020 7946 0958") is read as one of this region (ISO 3166-1 alpha-2); empty: every
# number must start with + and its country code.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="GB").strip().upper()
if PHONE_DEFAULT_REGION:
    import phonenumbers

    if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
        # At start-up: the library would otherwise fail on the first number it parses.
        raise ImproperlyConfigured(
            f"PHONE_DEFAULT_REGION must be a two-letter region code such as GB; got {PHONE_DEFAULT_REGION!r}."
        )
PHONENUMBER_DEFAULT_REGION = PHONE_DEFAULT_REGION or None
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"
# A number verified less than this many hours ago cannot reset the password: whoever holds a stolen
# access token could otherwise add a number of their own and reset the password with it before the
# owner reads the email that tells of the change.
PHONE_RESET_COOLING_OFF_HOURS = env.int("PHONE_RESET_COOLING_OFF_HOURS", default=24)

# --- Two-factor sign-in ---------------------------------------------------------------------------------
# Staff must turn on a second factor before sign-in gives them tokens or the admin lets them in.
REQUIRE_2FA_FOR_STAFF = env.bool("REQUIRE_2FA_FOR_STAFF", default=False)
# The issuer an authenticator app shows beside the account.
TOTP_ISSUER = env("TOTP_ISSUER", default=SITE_NAME)
# An mfa_token (the second step of a sign-in) lives this long and takes this many codes.
MFA_TOKEN_SECONDS = env.int("MFA_TOKEN_SECONDS", default=5 * 60)
MFA_TOKEN_MAX_ATTEMPTS = env.int("MFA_TOKEN_MAX_ATTEMPTS", default=5)
# Wrong second-factor codes per account, over every mfa_token, before its sign-ins pause for a while.
MFA_MAX_FAILURES_PER_USER = env.int("MFA_MAX_FAILURES_PER_USER", default=10)
MFA_FAILURE_WINDOW_MINUTES = env.int("MFA_FAILURE_WINDOW_MINUTES", default=60)
# Codes texted to a phone (apps/accounts/services/sms_codes.py). Minutes a code is good for from its
# sending: one to sign in, to confirm a two-factor change or to reset a password, and one that
# verifies a number being added.
SMS_CODE_MINUTES = env.int("SMS_CODE_MINUTES", default=5)
PHONE_VERIFICATION_CODE_MINUTES = env.int("PHONE_VERIFICATION_CODE_MINUTES", default=10)
# Tries per code, whatever its purpose (a sign-in code's count on its mfa_token instead). Deprecated:
# PHONE_VERIFICATION_MAX_ATTEMPTS, the former name for phone verification codes, is read when this
# is unset, so that deployments which set it keep their limit.
SMS_CODE_MAX_ATTEMPTS = env.int(
    "SMS_CODE_MAX_ATTEMPTS", default=env.int("PHONE_VERIFICATION_MAX_ATTEMPTS", default=5)
)
# Texts one mfa_token may ask for.
MFA_SMS_MAX_SENDS = env.int("MFA_SMS_MAX_SENDS", default=3)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static and media files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded files (product images) go to S3 when a bucket is named; credentials come from the usual
# AWS variables or the instance role, never from here.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
    AWS_DEFAULT_ACL = None  # the bucket's policy decides
    AWS_S3_FILE_OVERWRITE = False
    AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=False)

# --- Catalog --------------------------------------------------------------------------------------------
PRODUCT_IMAGE_MAX_BYTES = env.int("PRODUCT_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
# Phone photos carry EXIF: where they were taken (GPS), the camera and its serial number. Stored
# images are re-encoded without it (the orientation applied to the pixels) unless this is off.
PRODUCT_IMAGE_STRIP_METADATA = env.bool("PRODUCT_IMAGE_STRIP_METADATA", default=True)
# Anonymous catalog reads are cached this long at most; every catalog write invalidates them at once.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=300)
# A product list counts its matches up to this number; past it, `count` is this number and
# `count_capped` is true, and pages end there (narrow the search to reach the rest).
CATALOG_COUNT_CAP = env.int("CATALOG_COUNT_CAP", default=10_000)
# A public catalog read that misses the cache may keep PostgreSQL busy this long at most (a
# `statement_timeout`); past it the answer is a 503 `query_timeout`. Anyone may send these reads
# without a token, so no query string may buy a full scan of the catalog; 0 turns the limit off.
CATALOG_STATEMENT_TIMEOUT_MS = env.int("CATALOG_STATEMENT_TIMEOUT_MS", default=1000)

# --- Bookings -------------------------------------------------------------------------------------------
# Bookings start on this grid of the provider's clock and last a multiple of it (15 minutes to 8 hours).
BOOKING_SLOT_MINUTES = env.int("BOOKING_SLOT_MINUTES", default=15)
if not 1 <= BOOKING_SLOT_MINUTES <= 60 or 60 % BOOKING_SLOT_MINUTES:
    raise ImproperlyConfigured(
        f"BOOKING_SLOT_MINUTES must divide an hour (5, 10, 15, 20, 30, 60); got {BOOKING_SLOT_MINUTES}."
    )
# A booking starts at least this many minutes from now, and at most this many days ahead.
BOOKING_LEAD_MINUTES = env.int("BOOKING_LEAD_MINUTES", default=60)
BOOKING_MAX_DAYS_AHEAD = env.int("BOOKING_MAX_DAYS_AHEAD", default=365)
# Customers cancel or move a booking until this many hours before it starts; providers and staff any time.
BOOKING_CANCEL_CUTOFF_HOURS = env.int("BOOKING_CANCEL_CUTOFF_HOURS", default=24)
# The provider hears of a new booking this long after it is made: a booking cancelled within it
# sends the provider nothing at all, so booking and cancelling in a loop cannot flood their inbox.
BOOKING_CREATED_MESSAGE_DELAY_SECONDS = env.int("BOOKING_CREATED_MESSAGE_DELAY_SECONDS", default=120)

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Backend <no-reply@example.com>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = 10
# Used by the SMTP backend only: docker-compose points it at Mailpit, any SMTP relay works.
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
ANYMAIL = {
    "AMAZON_SES_CLIENT_PARAMS": {"region_name": env("AWS_SES_REGION", default="eu-west-1")},
}

# --- SMS ------------------------------------------------------------------------------------------------
# Dev: console; test: locmem (apps.notifications.sms.outbox); prod default: Amazon SNS, with
# credentials from the standard AWS variables or the instance role, never from here.
SMS_BACKEND = env("SMS_BACKEND", default="apps.notifications.sms.ConsoleSMSBackend")


def sms_sender_id(value: str) -> str:
    """`value` if SNS takes it as a sender id (1 to 11 ASCII letters and digits, at least one of them a
    letter: all digits would read as a phone number), or "" for none."""
    if value and not (len(value) <= 11 and value.isascii() and value.isalnum() and not value.isdigit()):
        # At start-up, not on the first message: SNS would refuse every SMS with this sender id.
        raise ImproperlyConfigured(
            f"SMS_SENDER_ID must be 1 to 11 letters and digits, at least one a letter; got {value!r}."
        )
    return value


# The sender's name on recipients' phones where the country allows one (not the US or Canada);
# empty: SNS's default.
SMS_SENDER_ID = sms_sender_id(env("SMS_SENDER_ID", default=""))
AWS_SNS_REGION = env("AWS_SNS_REGION", default="eu-west-1")


def sms_allowed_countries(values: list[str]) -> frozenset[str]:
    """The region codes of SMS_ALLOWED_COUNTRIES, upper case; empty for every country."""
    import phonenumbers

    regions = frozenset(value.strip().upper() for value in values if value.strip())
    unknown = sorted(regions - phonenumbers.SUPPORTED_REGIONS)
    if unknown:
        raise ImproperlyConfigured(
            f"SMS_ALLOWED_COUNTRIES must list two-letter region codes such as GB; unknown: {unknown}."
        )
    return regions


# The countries (ISO 3166-1 alpha-2 region codes, comma-separated) whose numbers may be added to an
# account, and so texted: SMS pumping fraud sends codes to premium-rate ranges abroad, paid per text.
# Empty: every country.
SMS_ALLOWED_COUNTRIES = sms_allowed_countries(env.list("SMS_ALLOWED_COUNTRIES", default=[]))

# --- Notifications --------------------------------------------------------------------------------------
# A transient provider error is retried with jittered exponential backoff (30 s, 60 s, ...
# capped at 30 minutes) until a message has had this many attempts; then it is `failed`.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=30)
NOTIFICATION_RETRY_MAX_SECONDS = env.int("NOTIFICATION_RETRY_MAX_SECONDS", default=30 * 60)
# A message queued or sending for this long past its due time lost its task or its worker: the
# sweep queues it again. Longer than a task may run (CELERY_TASK_TIME_LIMIT), so a slow send is
# never taken for a dead one.
NOTIFICATION_STUCK_SECONDS = env.int("NOTIFICATION_STUCK_SECONDS", default=15 * 60)
# Read in-app messages are deleted after this many days.
NOTIFICATION_READ_RETENTION_DAYS = env.int("NOTIFICATION_READ_RETENTION_DAYS", default=90)

# --- Security -------------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Which address is the client's (apps/core/client_address.py): REMOTE_ADDR unless proxies are
# trusted, by number or by address; then the right-most untrusted X-Forwarded-For entry.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=[])
for _network in TRUSTED_PROXY_IPS:
    ipaddress.ip_network(_network, strict=False)  # a typo must stop start-up, not trust nobody


def internal_networks(default: list[str]) -> list[str]:
    networks = env.list("INTERNAL_NETWORKS", default=default)
    for network in networks:
        ipaddress.ip_network(network, strict=False)  # a typo must stop start-up, not hide or show all
    return networks


# Who sees the OpenAPI schema, the API docs and the readiness probe's per-dependency details
# (apps/core/internal.py): clients from these networks (by the client-address rule above), and
# staff signed in to the admin; others get 404, and readiness only its status. They map the whole
# attack surface and the infrastructure behind it. Everyone here; production: loopback only.
INTERNAL_NETWORKS = internal_networks(["0.0.0.0/0", "::/0"])
# HTML pages (the admin, Swagger UI and ReDoc, served offline from drf-spectacular-sidecar) load
# scripts, styles, fonts and data only from this origin. Inline styles stay allowed: Swagger UI,
# ReDoc and the admin set styles from script and in `style` attributes. No inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.DjangoFilterBackend",
        "apps.core.filters.SearchFilter",
        "apps.core.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttles.AnonRateThrottle",
        "apps.core.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON_RATE", default="120/minute"),
        "user": env("THROTTLE_USER_RATE", default="1200/minute"),
        "login": env("THROTTLE_LOGIN_RATE", default="30/minute"),
        "login_failures": env("THROTTLE_LOGIN_FAILURES_RATE", default="5/minute"),
        "register": env("THROTTLE_REGISTER_RATE", default="10/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET_RATE", default="5/hour"),
        "email_verification_resend": env("THROTTLE_EMAIL_VERIFICATION_RESEND_RATE", default="3/hour"),
        "password_check": env("THROTTLE_PASSWORD_CHECK_RATE", default="10/hour"),
        "phone_verification": env("THROTTLE_PHONE_VERIFICATION_RATE", default="5/hour"),
        "two_factor_sms": env("THROTTLE_TWO_FACTOR_SMS_RATE", default="5/hour"),
        "mfa": env("THROTTLE_MFA_RATE", default="30/minute"),
        "account_reactivation": env("THROTTLE_ACCOUNT_REACTIVATION_RATE", default="5/hour"),
        "account_export": env("THROTTLE_ACCOUNT_EXPORT_RATE", default="3/hour"),
        # Budgets (apps.core.throttles.SecurityBudget), not per-request limits: texts to one number
        # whatever the account or purpose, texts to anyone, and refused texted reset codes per account.
        "sms_number": env("THROTTLE_SMS_NUMBER_RATE", default="10/hour"),
        "sms_global": env("THROTTLE_SMS_GLOBAL_RATE", default="1000/hour"),
        "password_reset_code_failures": env("THROTTLE_PASSWORD_RESET_CODE_FAILURES_RATE", default="10/hour"),
        # Bookings made and cancelled by a customer: each sends messages to the provider.
        "booking_changes": env("THROTTLE_BOOKING_CHANGES_RATE", default="30/hour"),
        "booking_changes_per_provider": env("THROTTLE_BOOKING_CHANGES_PER_PROVIDER_RATE", default="10/hour"),
    },
    "DEFAULT_METADATA_CLASS": "apps.core.metadata.EndpointMetadata",
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Every refresh returns a new refresh token and kills the one used (reuse -> 401).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a digest of the password hash: changing the password kills every token at once.
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": False,  # the login service sets last_login itself
}
# Rotation renews a refresh token's expiry, so a session used weekly would never end; this bounds
# a session's whole life: past it, a refresh is refused and the client signs in again.
SESSION_MAX_LIFETIME_DAYS = env.int("SESSION_MAX_LIFETIME_DAYS", default=30)
# Unset, tokens are signed with SECRET_KEY (SimpleJWT's default); a separate key lets you rotate one alone.
if env("JWT_SIGNING_KEY", default=""):
    SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY")

SPECTACULAR_SETTINGS = {
    "TITLE": "Backend API",
    "DESCRIPTION": (
        "REST API of the backend, by area:\n\n"
        "- **Accounts and authentication** (`auth`): registration, sign-in with JWT tokens, token "
        "rotation, sign-out, password change and reset (by email link or texted code), email "
        "verification and change.\n"
        "- **Two-factor sign-in** (`two-factor`): authenticator app, text message codes, recovery codes.\n"
        "- **Users** (`users`): your own account and phone number; staff manage accounts.\n"
        "- **Roles and permissions** (`roles`): named roles, the permissions they grant, who holds them.\n"
        "- **Products and categories** (`catalog`): the public catalog, stock and product images.\n"
        "- **Bookings and providers** (`bookings`): providers, their free slots and working hours; "
        "booking, moving, cancelling, confirming and finishing appointments.\n"
        "- **Notifications** (`notifications`): in-app messages and message preferences.\n"
        "- **Analytics** (`analytics`): sign-in statistics.\n"
        "- **Audit logs** (`audit`): who changed what, and when.\n\n"
        "Authenticate with a JWT access token in `Authorization: Bearer <token>` (from `auth/login/`); "
        "operations whose `security` allows `{}` need none. Every error has the `Error` shape, with a "
        "stable `code`."
    ),
    "VERSION": "1.0.0",
    "TAGS": [
        {"name": "auth", "description": "Accounts and authentication: sign-in, tokens, passwords, email."},
        {
            "name": "two-factor",
            "description": "Two-factor sign-in: authenticator app, texted codes, recovery codes.",
        },
        {"name": "users", "description": "Your account and phone number; accounts as staff manage them."},
        {"name": "roles", "description": "Roles, the permissions they grant, and who holds them."},
        {"name": "catalog", "description": "Products and categories: the public catalog, stock and images."},
        {"name": "bookings", "description": "Providers, their free slots and working hours, and bookings."},
        {"name": "notifications", "description": "Your in-app messages and which messages you receive."},
        {"name": "analytics", "description": "Sign-in statistics."},
        {"name": "audit", "description": "The audit trail: who changed what, and when."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Docstrings are written for the developers; clients read what extend_schema gives them.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    # Names a client generator turns into types: not `CodeEnum`, `StatusEnum`, `NullEnum`.
    "ENUM_NAME_OVERRIDES": {
        "TwoFactorMethodEnum": "apps.accounts.models.TwoFactorMethod",
        "ErrorCodeEnum": "apps.core.exceptions.ERROR_CODES",
        "BookingStatusEnum": "apps.bookings.models.BookingStatus",
        "NotificationCategoryEnum": "apps.notifications.models.Category",
    },
    # A nullable enum is a `oneOf` with a null branch (apps/core/schema.py), not a `NullEnum`.
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.postprocess_nullable_references",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would load an image from validator.swagger.io, which the page's
    # Content-Security-Policy refuses (and the docs work offline).
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": True,
        "displayRequestDuration": True,
        "validatorUrl": None,
    },
}

# --- Celery ---------------------------------------------------------------------------------------------
# With no broker configured, tasks run in-process so the project works with no server at all.
HEALTH_CHECK_BROKER = bool(env("CELERY_BROKER_URL", default=""))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not HEALTH_CHECK_BROKER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Acknowledge after the task ran, so a worker killed mid-task hands it to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "accounts-flush-expired-tokens": {
        "task": "accounts.flush_expired_tokens",
        "schedule": timedelta(hours=24),
    },
    "accounts-erase-closed-accounts": {
        "task": "accounts.erase_closed_accounts",
        "schedule": timedelta(hours=1),
    },
    "logs-prune-application-logs": {
        "task": "logs.prune_application_logs",
        "schedule": timedelta(hours=24),
    },
    "notifications-requeue-stuck": {
        "task": "notifications.requeue_stuck",
        "schedule": timedelta(minutes=5),
    },
    "notifications-prune-read": {
        "task": "notifications.prune_read",
        "schedule": timedelta(hours=24),
    },
    "bookings-send-reminders": {
        "task": "bookings.send_reminders",
        "schedule": timedelta(minutes=15),
    },
}
# The development server runs this schedule itself while the broker is the in-memory one
# (config/embedded_beat.py); development settings turn it on. Everywhere else `make beat` runs it.
EMBEDDED_BEAT = False

# --- Logs -----------------------------------------------------------------------------------------------
APPLICATION_LOG_RETENTION_DAYS = env.int("APPLICATION_LOG_RETENTION_DAYS", default=30)
# One cause (logger, message, exception type and place) writes at most this many ApplicationLog
# rows per window, per process: a request a client can make fail at will must not become a row
# with a traceback per request. The rest are counted and summed up in one row after the window.
APPLICATION_LOG_MAX_PER_CAUSE = env.int("APPLICATION_LOG_MAX_PER_CAUSE", default=10)
APPLICATION_LOG_CAUSE_WINDOW_SECONDS = env.int("APPLICATION_LOG_CAUSE_WINDOW_SECONDS", default=60)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")  # "text" or "json"


def logging_config(log_format: str, level: str) -> dict:
    # Django installs DEFAULT_LOGGING before this: a console handler of its own on the `django`
    # logger (DEBUG only) that also propagates to ours, which printed every Django line twice in
    # development, and a `django.server` handler with a format of its own. Naming these loggers
    # here replaces those handlers, so each line is printed once, by one handler, in one format.
    # Django's loggers stay at INFO or quieter whatever LOG_LEVEL says: at DEBUG the autoreloader
    # alone prints a line per watched file.
    django_level = logging.getLevelName(
        max(logging.getLevelNamesMapping().get(level.upper(), 0), logging.INFO)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "apps.core.logging.RequestIdFilter"},
            "server_errors_only": {"()": "apps.core.logging.SkipClientErrors"},
        },
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
            "json": {"()": "apps.core.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": log_format,
            },
            # WARNING and above also land in the logs database (ApplicationLog).
            "database": {
                "class": "apps.logs.handlers.DatabaseLogHandler",
                "level": "WARNING",
                "filters": ["request_id", "server_errors_only"],
            },
        },
        "root": {"handlers": ["console", "database"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": django_level, "propagate": True},
            # runserver's access log: the console only. Its 4xx lines are WARNINGs that carry no
            # request, so the database handler's client-error filter could not tell them apart.
            "django.server": {"handlers": ["console"], "level": django_level, "propagate": False},
            "django.db.backends": {"level": "WARNING"},
            "celery": {"level": level},
            # At DEBUG, botocore logs whole requests: an SMS's number and its one-time code.
            "botocore": {"level": "INFO"},
            "boto3": {"level": "INFO"},
        },
    }


LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
