"""Rate limits: general ones on every request, security ones where attackers aim.

General limits (`AnonRateThrottle`, `UserRateThrottle`) run on every request, so they cost one
Redis round trip: a fixed-window counter (`INCR`, and `EXPIRE` on a window's first count, in
one Lua script), which also brings the cache entries registered with `register_read_along`; a
signed-in read has that done in the auth cache's round trip (`CountAhead`), so it pays none of
its own. DRF's own throttles
read and rewrite a pickled list of every request's timestamp in the window (up to 1,200 entries at
the default user rate) on each request. A fixed window lets a burst of up to twice the rate
through across a window's edge, which is fine for limits that only keep one client from hogging
the service. They use the general cache, so they lapse while Redis is down.

Security limits (login, registration, password reset, email) must not switch off silently when
Redis is down, and keep DRF's sliding window, which the failed-login reservation needs. This module
holds their mechanism (`SecurityThrottle`, `SecurityBudget`); the limits themselves live with the
app they guard, in its throttles.py (apps/accounts, apps/bookings, apps/notifications). They use
their own cache alias, `throttle`, which raises, and fall back to a per-process memory cache while
Redis is unreachable: limits stay on, counted per worker process instead of globally, until Redis
is back.

Every throttle here identifies the caller by `apps.core.client_address.client_ip`: DRF's own
`get_ident` believes the client's `X-Forwarded-For` unless NUM_PROXIES is set, which let anyone buy a
fresh budget per request.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache, caches
from redis.commands.core import Script
from rest_framework import throttling

from apps.core.client_address import client_ip
from apps.core.normalization import canonical_email

logger = logging.getLogger(__name__)


class FailoverCache:
    """The `throttle` cache, or the per-process `throttle_fallback` cache when it fails."""

    primary_alias = "throttle"
    fallback_alias = "throttle_fallback"

    def _call(self, method: str, *args, **kwargs):
        return self._on_cache(lambda cache: getattr(cache, method)(*args, **kwargs))

    def _on_cache(self, operation):
        try:
            return operation(caches[self.primary_alias])
        except Exception as exc:  # any backend failure: Redis down, timeout, protocol error
            logger.warning(
                "Throttle cache unavailable (%s); using the local fallback", exc.__class__.__name__
            )
            return operation(caches[self.fallback_alias])

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout=None):
        return self._call("set", key, value, timeout)

    def count(self, key, timeout) -> int:
        """Add one to the counter `key`, made to expire after `timeout` seconds if new, and return
        it. On Redis the increment is INCR, atomic across processes: two of them cannot both read
        a count below a limit and both go over it."""
        return self._on_cache(lambda cache: _cache_count(cache, key, timeout))


def _cache_count(cache, key, timeout) -> int:
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two steps: this is the window's first count
        cache.set(key, 1, timeout)
        return 1


failover_cache = FailoverCache()


def _digest(value: str) -> str:
    # Cache keys can show up in Redis monitoring; never put an email address there in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _phone_of(value: str) -> str:
    """A phone number as E.164, the form accounts store it in, so every spelling of one number
    (`07911 123456`, `0044 7911 123456`, `+44-7911-123456`) shares a budget; else its digits."""
    from phonenumber_field.phonenumber import to_python  # reads settings: imported when used

    number = to_python(value, region=settings.PHONENUMBER_DEFAULT_REGION)
    if number is not None and number.is_valid():
        return number.as_e164
    return "".join(c for c in value if c.isdigit())


def _email_of(request) -> str:
    """The email an API call (`email`) or the admin's login form (`username`) names, in the
    canonical form accounts are stored and matched in; else the phone number a reset by SMS names."""
    data = request.data if hasattr(request, "data") else request.POST
    if not hasattr(data, "get"):
        return ""
    email = data.get("email") or data.get("username") or ""
    if email:
        return canonical_email(email) if isinstance(email, str) else ""
    phone = data.get("phone")
    return "phone:" + _phone_of(phone) if isinstance(phone, str) and phone else ""


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return client_ip(request) or ""


# INCR, and on the first count of a window its expiry: atomic on the server. The other keys are
# read in the same round trip (see `ReadAlong`).
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS == 1 then return count end
return {count, redis.call('MGET', unpack(KEYS, 2))}
"""
# Given as bytes, the script needs no client to compute its SHA; each call names its client.
_count_script = Script(None, _COUNT_SCRIPT.encode())


def _count(key: str, window_seconds: int, read_along: list[str]) -> tuple[int, dict] | None:
    """Add one to the counter `key`, created with an expiry if new, and read the cache entries
    `read_along` (None for a missing one); None when the cache fails."""
    try:
        client = getattr(cache, "client", None)
        if hasattr(client, "get_client"):  # django-redis: one round trip
            keys = [cache.make_and_validate_key(name) for name in [key, *read_along]]
            reply = _count_script(keys=keys, args=[window_seconds], client=client.get_client(write=True))
            if not read_along:
                return reply, {}
            count, raw = reply
            return count, {
                name: None if value is None else client.decode(value)
                for name, value in zip(read_along, raw, strict=True)
            }
        cache.add(key, 0, window_seconds)
        count = cache.incr(key)
        found = cache.get_many(read_along) if read_along else {}
        return count, {name: found.get(name) for name in read_along}
    except Exception:  # Redis down or a key evicted between the two steps: no general limit now
        return None


class ReadAlong:
    """Cache entries that a request will read anyway, fetched with the general throttle's counter.

    The throttle's counter is the one cache round trip every request pays; another part of the
    request that reads a small cache entry of its own (the caller's permission set) registers a
    `ReadAlong` instead of paying a second one. `keys(request)` names the entries (none to skip);
    `receive(request, values)` gets them (None for a missing one), and is not called at all when
    the cache failed, so the part reads for itself as it would have. `keys_for_user(user_id)`
    names the entries a signed-in caller known only by id would want, for a count taken ahead
    (`CountAhead`).
    """

    def keys(self, request) -> list[str]:
        raise NotImplementedError

    def keys_for_user(self, user_id: int) -> list[str]:
        return []

    def receive(self, request, values: dict) -> None:
        raise NotImplementedError


_read_alongs: list[ReadAlong] = []


def register_read_along(read_along: ReadAlong) -> None:
    _read_alongs.append(read_along)


# Where a count taken ahead leaves its answers on the request (DRF's Request).
_COUNTED_AHEAD = "_general_throttle_counted_ahead"
_READ_AHEAD = "_general_throttle_read_ahead"


class CountAhead:
    """The general throttles' round trip, carried by an earlier one of the same request.

    A signed-in read already makes one Redis round trip before the throttles run: the auth cache's
    (apps/accounts/auth_cache.py). Knowing the caller's id from the token, it can also add one to
    the general throttles' counters and read the read-along entries, and then the throttles find
    their counts on the request and make no round trip of their own (`count_ahead` names what to
    send; the carrier calls `receive` with the answers). A throttle whose count is not there (its
    window turned over in between, the carrier failed) counts for itself as before.
    """

    __slots__ = ("counters", "reads", "windows")

    def __init__(self, counters: list[str], windows: list[int], reads: list[str]):
        self.counters, self.windows, self.reads = counters, windows, reads

    def keys(self) -> list[str]:
        """The counters' keys, then the read-along entries' keys, as stored in Redis."""
        return [cache.make_and_validate_key(name) for name in (*self.counters, *self.reads)]

    def receive(self, request, counts: list[int], raw_values: list) -> None:
        client = cache.client
        setattr(request, _COUNTED_AHEAD, dict(zip(self.counters, counts, strict=True)))
        setattr(
            request,
            _READ_AHEAD,
            {
                name: None if value is None else client.decode(value)
                for name, value in zip(self.reads, raw_values, strict=True)
            },
        )


def count_ahead(request, user_id: int) -> CountAhead | None:
    """What the general throttles of the request's view will count and read for signed-in
    `user_id`, or None when there is nothing to take ahead (no view, no such throttle, or a cache
    that is not Redis)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None or not hasattr(getattr(cache, "client", None), "get_client"):
        return None
    counters, windows = [], []
    for throttle in view.get_throttles():
        if isinstance(throttle, FixedWindowRateThrottle) and throttle.rate is not None:
            key = throttle.signed_in_key(user_id)
            if key is not None:
                counters.append(throttle.windowed_key(key, throttle.timer()))
                windows.append(throttle.duration)
    if not counters:
        return None
    reads = [name for read_along in _read_alongs for name in read_along.keys_for_user(user_id)]
    return CountAhead(counters, windows, reads)


class FixedWindowRateThrottle(ClientAddressMixin, throttling.SimpleRateThrottle):
    """At most `num_requests` per window of `duration` seconds, aligned to the clock."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        self.window_ends = (int(self.now // self.duration) + 1) * self.duration
        windowed = self.windowed_key(key, self.now)
        wanted = [(read_along, read_along.keys(request)) for read_along in _read_alongs]
        count = getattr(request, _COUNTED_AHEAD, {}).pop(windowed, None)
        if count is not None:  # counted in an earlier round trip (CountAhead)
            values = getattr(request, _READ_AHEAD)
        else:
            counted = _count(windowed, self.duration, [name for _, names in wanted for name in names])
            if counted is None:
                return True
            count, values = counted
        for read_along, names in wanted:
            if names and all(name in values for name in names):
                read_along.receive(request, {name: values[name] for name in names})
        if count > self.num_requests:
            return self.throttle_failure()
        return True

    def windowed_key(self, key: str, now: float) -> str:
        """The counter of the window that `now` falls in."""
        return f"{key}:{int(now // self.duration)}"

    def signed_in_key(self, user_id: int) -> str | None:
        """`get_cache_key` for a request by signed-in `user_id`, for a count taken ahead of
        authentication's end (`CountAhead`); None when this throttle does not count such requests."""
        return None

    def wait(self) -> float:
        return max(self.window_ends - self.now, 1)


class AnonRateThrottle(FixedWindowRateThrottle):
    """The general limit for anonymous callers, per client address (`THROTTLE_ANON_RATE`)."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(FixedWindowRateThrottle):
    """The general limit per signed-in user, per client address when anonymous (`THROTTLE_USER_RATE`)."""

    scope = "user"

    def get_cache_key(self, request, view):
        signed_in = request.user and request.user.is_authenticated
        ident = request.user.pk if signed_in else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def signed_in_key(self, user_id: int) -> str:
        return self.cache_format % {"scope": self.scope, "ident": user_id}


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


class SecurityBudget(throttling.SimpleRateThrottle):
    """A budget that holds across processes: at most `num_requests` of something per `ident` in
    each window of `duration` seconds, aligned to the clock. Rates: REST_FRAMEWORK throttle rates.

    Not a view throttle: the code that is about to spend (text a message, refuse a code) calls
    `take` where it knows the ident, which a request's body or URL does not always name. It counts
    with `FailoverCache.count`, one atomic INCR on Redis, rather than SecurityThrottle's history
    list, which two processes could each read at the limit's edge and both pass. A fixed window
    lets up to twice the budget through across a window's edge, which a budget of money or guesses
    per hour can afford. Idents are hashed in the key, as email addresses are: they can be phone
    numbers.
    """

    cache = failover_cache

    def get_cache_key(self, request, view):
        return None

    def _window_key(self, ident: str) -> str:
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return f"{self.cache_format % {'scope': self.scope, 'ident': _digest(ident)}}:{window}"

    def take(self, ident: str) -> int | None:
        """Count one for `ident`; its count in this window, this one included (None: no limit).
        Over `num_requests`, the caller must not spend."""
        if self.rate is None:
            return None
        return self.cache.count(self._window_key(ident), self.duration)

    def spent(self, ident: str) -> bool:
        """Whether `ident` has used its whole budget in this window; counts nothing."""
        if self.rate is None:
            return False
        return (self.cache.get(self._window_key(ident)) or 0) >= self.num_requests

    def wait(self) -> float:
        return max(self.window_ends - self.now, 1)
