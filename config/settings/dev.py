"""Local development: the embedded default (SQLite, local-memory cache, eager Celery) unless
the environment points at real servers."""

from urllib.parse import urlsplit

from .base import *
from .base import FRONTEND_URL, REST_FRAMEWORK, SECRET_KEY, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-used-outside-a-laptop"

# The front end the emails link to (FRONTEND_URL, http://localhost:3000 unless set) may call the
# API from the browser without further setup; CORS_ALLOWED_ORIGINS, when set, says exactly who.
_frontend = urlsplit(FRONTEND_URL)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[f"{_frontend.scheme}://{_frontend.netloc}"])

# The browsable API and session login make the API explorable from a browser while developing.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": [
        "apps.core.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Production's limits stop someone trying the API by hand within minutes (5 failed logins a
    # minute, 3 verification emails an hour). The same variables set them here when you want to
    # try the limits themselves.
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "anon": env("THROTTLE_ANON_RATE", default="1000/minute"),
        "user": env("THROTTLE_USER_RATE", default="10000/minute"),
        "login": env("THROTTLE_LOGIN_RATE", default="100/minute"),
        "login_failures": env("THROTTLE_LOGIN_FAILURES_RATE", default="50/minute"),
        "register": env("THROTTLE_REGISTER_RATE", default="100/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET_RATE", default="50/hour"),
        "email_verification_resend": env("THROTTLE_EMAIL_VERIFICATION_RESEND_RATE", default="30/hour"),
        "password_check": env("THROTTLE_PASSWORD_CHECK_RATE", default="100/hour"),
        "phone_verification": env("THROTTLE_PHONE_VERIFICATION_RATE", default="50/hour"),
    },
}

# Static files come straight from the apps; collectstatic is for production images.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# With no CELERY_BROKER_URL, `manage.py runserver` runs CELERY_BEAT_SCHEDULE in a thread of its own
# (config/embedded_beat.py): reminders and the sweep of stuck messages happen with no worker or beat.
EMBEDDED_BEAT = env.bool("EMBEDDED_BEAT", default=True)
