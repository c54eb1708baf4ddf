"""The signed-in user's row and session state, cached in Redis for reads.

Every authenticated request needs the user's row and whether the token's session is still live
(apps/accounts/jwt.py). A read (GET, HEAD, OPTIONS) takes both from two cache entries, fetched in
one Redis round trip, instead of querying the database:

- `auth:user:<id>`: the user's columns except the password hash, the digest of that hash
  which every token of the user carries already (`CHECK_REVOKE_TOKEN`), and, for staff while
  REQUIRE_2FA_FOR_STAFF holds, whether their 2FA is on. No secret is cached.
- `auth:session:<uuid>`: the id of the session's user, present only while the session is live.

An entry is forgotten when what it holds changes: a user or their TwoFactor row saved or
deleted (receivers.py), a
session ended, `tokens_valid_after` set in bulk (services/sessions.py). It is deleted at once and
again after the change commits. An entry filled from the database is stored under a lease: the
round trip that finds an entry missing puts a short-lived lease token in its place, and the row
read from the database afterwards is stored only if that lease is still there. Forgetting deletes
the lease too, so a read that raced with a change (read the old row, then tried to store it after
the change committed) stores nothing. Whatever happens, entries expire after `AUTH_CACHE_SECONDS`:
that bounds how long a sign-out takes to reach reads when both of its deletes failed because Redis
was unreachable at that moment.

The round trip that reads the two entries also counts the request in the general throttles and
reads the caller's cached permission set (`CountAhead`): a signed-in read makes one Redis round
trip in all.

Only a shared Redis cache (django-redis) is used: a per-process cache could not be cleared in
the other processes. Writes (unsafe methods) read the database as before, and so does every read
while the cache fails.
"""

import logging
import pickle
import secrets
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.commands.core import Script

from apps.core.throttles import count_ahead

logger = logging.getLogger(__name__)

# A lease lives long enough for the database read it waits for, and no longer: a request that dies
# between the two round trips leaves the entry empty for this long.
LEASE_MILLISECONDS = 5_000
_LEASE_PREFIX = b"lease:"

# KEYS: the two entries, then ARGV[3] throttle counters, then the entries read along.
# ARGV[1]: this request's lease token, ARGV[2]: its lifetime in ms, ARGV[3]: how many counters,
# ARGV[3 + i]: counter i's window in seconds (its expiry when this count creates it).
_READ_SCRIPT = b"""
local found = redis.call('MGET', KEYS[1], KEYS[2])
for i = 1, 2 do
  if not found[i] then redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2], 'NX') end
end
local counters = tonumber(ARGV[3])
local counts = {}
for i = 1, counters do
  counts[i] = redis.call('INCR', KEYS[2 + i])
  if counts[i] == 1 then redis.call('EXPIRE', KEYS[2 + i], ARGV[3 + i]) end
end
local read = {}
if #KEYS > 2 + counters then read = redis.call('MGET', unpack(KEYS, 3 + counters)) end
return {found, counts, read}
"""
# KEYS: the entries. ARGV[1]: the lease token, ARGV[2]: the entries' lifetime in s, ARGV[2 + i]:
# the value for KEYS[i], or '' to drop the lease without storing anything.
_FILL_SCRIPT = b"""
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    if ARGV[2 + i] == '' then redis.call('DEL', KEYS[i])
    else redis.call('SET', KEYS[i], ARGV[2 + i], 'EX', ARGV[2]) end
  end
end
return 0
"""
# Given as bytes, the scripts need no client to compute their SHA; each call names its client.
_read_script = Script(None, _READ_SCRIPT)
_fill_script = Script(None, _FILL_SCRIPT)


def _user_key(user_id: int) -> str:
    return f"auth:user:{user_id}"


def _session_key(session_id: uuid.UUID) -> str:
    return f"auth:session:{session_id}"


def _redis():
    """The raw client of the shared Redis cache, or None when this cache is off or not Redis."""
    if settings.AUTH_CACHE_SECONDS <= 0:
        return None
    client = getattr(cache, "client", None)
    return client.get_client(write=True) if hasattr(client, "get_client") else None


class Lookup:
    """What one round trip found: the user entry's `(columns, values, password_digest,
    two_factor_on)` and the
    session's user id (None for a miss), and the lease under which a miss may be filled."""

    __slots__ = ("keys", "lease", "session_user_id", "user_entry")

    def __init__(self, keys, lease, user_entry, session_user_id):
        self.keys, self.lease = keys, lease
        self.user_entry, self.session_user_id = user_entry, session_user_id

    @property
    def complete(self) -> bool:
        return self.user_entry is not None and self.session_user_id is not None


def _decoded_user(raw: bytes | None):
    if raw is None or raw.startswith(_LEASE_PREFIX):
        return None
    try:
        entry = pickle.loads(raw)  # noqa: S301 - written by fill() below, in our own Redis
    except Exception:  # an entry of another release's format: a miss
        return None
    return entry if isinstance(entry, tuple) and len(entry) == 4 else None


def _decoded_session(raw: bytes | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    return int(raw)


def lookup(user_id: int, session_id: uuid.UUID, *, request=None) -> Lookup | None:
    """The two entries, with a lease placed on each missing one; None when the cache is off or
    failed (then nothing is to be filled either).

    With the DRF `request`, the same round trip also counts the request in its view's general
    throttles and reads their read-along entries (`CountAhead` in apps/core/throttles.py), so that
    a signed-in read makes one Redis round trip in all.
    """
    client = _redis()
    if client is None:
        return None
    keys = [cache.make_key(_user_key(user_id)), cache.make_key(_session_key(session_id))]
    lease = _LEASE_PREFIX + secrets.token_hex(8).encode()
    ahead = count_ahead(request, user_id) if request is not None else None
    args = [lease, LEASE_MILLISECONDS, 0]
    if ahead is not None:
        args = [lease, LEASE_MILLISECONDS, len(ahead.counters), *ahead.windows]
    try:
        found, counts, read = _read_script(
            keys=keys if ahead is None else keys + ahead.keys(), args=args, client=client
        )
    except Exception as exc:  # Redis down or slow: the database answers, the throttles count for themselves
        logger.warning("Auth cache unavailable (%s); reading the database", exc.__class__.__name__)
        return None
    if ahead is not None:
        ahead.receive(request, counts, read)
    user_raw, session_raw = found
    return Lookup(keys, lease, _decoded_user(user_raw), _decoded_session(session_raw))


def fill(found: Lookup, *, user_entry: tuple | None, session_user_id: int | None) -> None:
    """Store what the database said where this request's leases still stand; None stores nothing
    (an unknown user, an ended session), and drops the lease."""
    client = _redis()
    if client is None:
        return
    values = [
        b"" if user_entry is None else pickle.dumps(user_entry, protocol=pickle.HIGHEST_PROTOCOL),
        b"" if session_user_id is None else str(session_user_id).encode(),
    ]
    try:
        _fill_script(keys=found.keys, args=[found.lease, settings.AUTH_CACHE_SECONDS, *values], client=client)
    except Exception as exc:
        logger.warning("Auth cache unavailable (%s); entry not stored", exc.__class__.__name__)


def _delete_now(names: list[str]) -> None:
    client = _redis()
    if not names or client is None:
        return
    try:
        client.delete(*(cache.make_key(name) for name in names))
    except Exception as exc:
        # The entries expire after AUTH_CACHE_SECONDS; the delete after commit tries again.
        logger.warning("Auth cache unavailable (%s); entries not forgotten", exc.__class__.__name__)


def _forget(names: list[str]) -> None:
    # Twice: at once, and again after the change commits (see the module's docstring).
    _delete_now(names)
    transaction.on_commit(lambda: _delete_now(names), robust=True)


def forget_user(user_id: int) -> None:
    """The user's row changed or is gone."""
    _forget([_user_key(user_id)])


def forget_sessions(session_ids) -> None:
    """These sessions ended."""
    _forget([_session_key(session_id) for session_id in session_ids])
