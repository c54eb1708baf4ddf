"""Rate limits for the endpoints attackers aim at (login, registration, password reset, email).

These must not switch off silently when Redis is down. The general cache ignores Redis
errors (a miss is harmless there, but an empty throttle history means "no limit"), so
these throttles use their own cache alias, `throttle`, which raises, and fall back to a
per-process memory cache while Redis is unreachable: limits stay on, counted per worker
process instead of globally, until Redis is back.

Every throttle here, the general ones included, identifies the caller by
`apps.core.client_address.client_ip`: DRF's own `get_ident` believes the client's
`X-Forwarded-For` unless NUM_PROXIES is set, which let anyone buy a fresh budget per request.
"""

import hashlib
import logging

from django.core.cache import caches
from rest_framework import throttling

from apps.core.client_address import client_ip
from apps.core.normalization import canonical_email

logger = logging.getLogger(__name__)


class FailoverCache:
    """The `throttle` cache, or the per-process `throttle_fallback` cache when it fails."""

    primary_alias = "throttle"
    fallback_alias = "throttle_fallback"

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(caches[self.primary_alias], method)(*args, **kwargs)
        except Exception as exc:  # any backend failure: Redis down, timeout, protocol error
            logger.warning(
                "Throttle cache unavailable (%s); using the local fallback", exc.__class__.__name__
            )
            return getattr(caches[self.fallback_alias], method)(*args, **kwargs)

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout=None):
        return self._call("set", key, value, timeout)


failover_cache = FailoverCache()


def _digest(value: str) -> str:
    # Cache keys can show up in Redis monitoring; never put an email address there in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _email_of(request) -> str:
    """The email an API call (`email`) or the admin's login form (`username`) names, in the
    canonical form accounts are stored and matched in."""
    data = request.data if hasattr(request, "data") else request.POST
    email = (data.get("email") or data.get("username") or "") if hasattr(data, "get") else ""
    return canonical_email(email) if isinstance(email, str) else ""


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    """DRF's general limit for anonymous callers, per client address."""


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    """DRF's general limit per signed-in user (per client address when anonymous)."""


class SecurityThrottle(ClientAddressMixin, throttling.SimpleRateThrottle):
    """A throttle that keeps counting when Redis is down. Rates: REST_FRAMEWORK throttle rates.

    `counted_per` says whose requests share one budget: "ip", "ip+email" or "user".
    """

    cache = failover_cache
    counted_per = "ip"

    def get_cache_key(self, request, view):
        if self.counted_per == "user":
            ident = request.user.pk
        elif self.counted_per == "ip+email":
            ident = _digest(f"{self.get_ident(request)}|{_email_of(request)}")
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginThrottle(SecurityThrottle):
    """Every login attempt from one IP address, to slow down scans across many accounts."""

    scope = "login"


class LoginFailureThrottle(SecurityThrottle):
    """Failed logins for one email from one IP address. Only failures are counted.

    `allow_request` checks the history without adding to it. The view `reserve`s a slot
    before checking the password and `release`s it when the password was right, so a burst
    of parallel guesses counts as the failures it is about to be.
    """

    scope = "login_failures"
    counted_per = "ip+email"

    def allow_request(self, request, view):
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    @classmethod
    def reserve(cls, request) -> float:
        throttle = cls()
        throttle.allow_request(request, None)
        throttle.history.insert(0, throttle.now)
        throttle.cache.set(throttle.key, throttle.history, throttle.duration)
        return throttle.now

    @classmethod
    def release(cls, request, reserved: float) -> None:
        throttle = cls()
        throttle.allow_request(request, None)
        if reserved in throttle.history:
            throttle.history.remove(reserved)
            throttle.cache.set(throttle.key, throttle.history, throttle.duration)


class RegisterThrottle(SecurityThrottle):
    scope = "register"


class PasswordResetThrottle(SecurityThrottle):
    """Reset requests per IP address and the email they name."""

    scope = "password_reset"
    counted_per = "ip+email"


class PasswordResetConfirmThrottle(SecurityThrottle):
    """Attempts to use reset links, per IP address: the endpoint reads no email, so none may
    split the budget."""

    scope = "password_reset"
    counted_per = "ip"
    cache_format = "throttle_%(scope)s_confirm_%(ident)s"


class PasswordCheckThrottle(SecurityThrottle):
    """Calls that check the signed-in user's password (change it, close the account), per user:
    a stolen access token must not become a password-guessing oracle."""

    scope = "password_check"
    counted_per = "user"


class EmailVerificationResendThrottle(SecurityThrottle):
    """Verification emails re-sent per user."""

    scope = "email_verification_resend"
    counted_per = "user"
