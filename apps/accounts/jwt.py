"""JWTs tied to sessions: how a token is read, and when a well-signed token is still refused.

Every token names its session (`AuthSession`) in the `sid` claim. A token is refused, with its
own error code, when
- it is expired (`token_expired`: the client should refresh) or malformed (`token_not_valid`);
- its session has ended, or it was issued before the user's `tokens_valid_after` cut-off
  (`session_ended`: sign-out, sign-out everywhere, a reused refresh token, a password change or
  reset, a deactivation);
- the user's password changed since (`password_changed`) or the account is inactive
  (`user_inactive`);
- the user is staff without two-factor sign-in while REQUIRE_2FA_FOR_STAFF holds (a 403
  `mfa_enrolment_required`): decided on every request from the user's row, so it reaches
  sessions from before the setting, staff promoted later and staff who turned two-factor sign-in
  off. Only for staff is the two-factor state read, and the cached user entry carries it for reads.
The checks read only the user row, which authentication loads anyway, and one EXISTS on the
session's primary key folded into that same query; a read (a safe method) takes both from the
cache when they are there (apps/accounts/auth_cache.py).
"""

import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework_simplejwt.exceptions import (
    AuthenticationFailed,
    ExpiredTokenError,
    InvalidToken,
    TokenError,
)
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import aware_utcnow, datetime_from_epoch, get_md5_hash_password

from apps.accounts import auth_cache
from apps.accounts.models import AuthSession, TwoFactor, User

SESSION_CLAIM = "sid"


class TokenInvalid(InvalidToken):
    default_detail = _("Token is invalid.")
    default_code = "token_not_valid"


class TokenExpired(InvalidToken):
    default_detail = _("Token has expired.")
    default_code = "token_expired"


class SessionEnded(InvalidToken):
    default_detail = _("This session has ended; sign in again.")
    default_code = "session_ended"


class TwoFactorMissing(PermissionDenied):
    """A token of a staff member who must turn two-factor sign-in on first. Unlike the 403 of the
    same code at sign-in (signin.py's TwoFactorEnrolmentRequired) it carries no challenge: an
    enrolment sets up a second factor and starts a session, and that is for whoever just proved
    the password, not for whoever holds a token."""

    default_detail = _(
        "Staff accounts must turn on two-factor sign-in. Sign in again with your password at "
        "/api/v1/auth/login/: its answer carries an mfa_token for the enrolment endpoints."
    )
    default_code = "mfa_enrolment_required"


class SessionRefreshToken(RefreshToken):
    """SimpleJWT's refresh token without its own blacklist check.

    `token_refresh` and `auth_logout` check the blacklist themselves, under a row lock, and must
    see a reused token rather than have it refused early: reuse ends the token's whole session.
    """

    def check_blacklist(self) -> None:
        return None


def token_decode(raw: str | bytes, token_class: type[Token]) -> Token:
    """Verify signature, expiry and type; expiry gets its own error code."""
    try:
        return token_class(raw)
    except ExpiredTokenError as exc:
        raise TokenExpired() from exc
    except TokenError as exc:
        raise TokenInvalid() from exc


class VerifiedAccessToken(AccessToken):
    """An access token whose signature and claims were verified before, made from the payload that
    verification produced (`access_token_decode`) instead of decoding the token again."""

    def __init__(self, raw: str | bytes, payload: dict) -> None:
        self.token = raw
        self.current_time = aware_utcnow()
        self.payload = payload


# The payloads of access tokens verified lately, by the exact encoded token, with the moment each
# expires. Every authenticated request presents its access token again, and the same bytes under
# the same key verify the same way every time; only expiry depends on the clock, and that is
# checked on every use. Bounded: a worker keeps this many tokens (about a kilobyte each).
VERIFIED_ACCESS_TOKENS = 1024


@lru_cache(maxsize=VERIFIED_ACCESS_TOKENS)
def _verified_access_payload(raw: str | bytes) -> tuple[dict, float]:
    token = token_decode(raw, AccessToken)  # raises for a token that does not verify: not cached
    deadline = token["exp"] + token.get_token_backend().get_leeway().total_seconds()
    return token.payload, deadline


def access_token_decode(raw: str | bytes) -> AccessToken:
    """`token_decode(raw, AccessToken)`, with the signature check (an HMAC, base64 and JSON:
    a quarter of the CPU of authenticating a read) done once per token and worker.

    A remembered token is used until the moment PyJWT and SimpleJWT would call it expired
    (`exp` plus the leeway); from then on it is decoded again, which refuses it with the usual
    `token_expired`. What else makes a token unusable (an ended session, a changed password, an
    inactive account) is checked on every request afterwards, as before (`access_token_user`).
    """
    payload, deadline = _verified_access_payload(raw)
    if time.time() >= deadline:
        return token_decode(raw, AccessToken)
    return VerifiedAccessToken(raw, dict(payload))


def user_id_claim(token: Token) -> int:
    value = token.get(jwt_settings.USER_ID_CLAIM)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise TokenInvalid(_("Token contained no recognizable user identification."))


def session_id_claim(token: Token) -> uuid.UUID | None:
    """The token's session, or None for a token issued without one."""
    value = token.get(SESSION_CLAIM)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise TokenInvalid() from exc


def refresh_token_issue(session: AuthSession) -> dict[str, str]:
    """A new refresh token of the session, and an access token minted from it."""
    user = session.user
    refresh = SessionRefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = user.pk
    if jwt_settings.CHECK_REVOKE_TOKEN:
        refresh[jwt_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
    refresh[SESSION_CLAIM] = str(session.pk)
    # Recorded so it can be blacklisted at rotation; the token itself is not stored: a copy in
    # the database would be a usable credential for anyone who can read it.
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token="",
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def two_factor_missing(user: User, *, two_factor_on: bool | None = None) -> bool:
    """Whether REQUIRE_2FA_FOR_STAFF shuts `user` out until they turn two-factor sign-in on. Only
    for staff is the two-factor state read (`two_factor_on`, when it is known already, else one
    query)."""
    if not settings.REQUIRE_2FA_FOR_STAFF or not (user.is_staff or user.is_superuser):
        return False
    if two_factor_on is None:
        two_factor_on = TwoFactor.enabled_for(user.pk)
    return not two_factor_on


def token_refusal(
    user: User | None,
    token: Token,
    *,
    session_live: bool | None,
    password_digest: str | None = None,
    two_factor_on: bool | None = None,
) -> Exception | None:
    """Why `user` may not use `token`, or None. `session_live` is None for a token without `sid`;
    `password_digest` is the revocation digest of the user's password, and `two_factor_on` whether
    the user has two-factor sign-in on, when they are known already."""
    if user is None:
        return TokenInvalid(_("No account found for this token."))
    if not user.is_active:
        return AuthenticationFailed(_("This account is inactive."), code="user_inactive")
    if password_digest is None and jwt_settings.CHECK_REVOKE_TOKEN:
        password_digest = get_md5_hash_password(user.password)
    if jwt_settings.CHECK_REVOKE_TOKEN and token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != password_digest:
        return AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
    if session_live is False:
        return SessionEnded()
    cutoff = user.tokens_valid_after
    # `iat` has whole seconds: a token from the second of the cut-off passes this test, and is
    # refused above by its ended session (every token issued here has one).
    if cutoff is not None and int(token.get("iat", 0)) < int(cutoff.timestamp()):
        return SessionEnded()
    if two_factor_missing(user, two_factor_on=two_factor_on):
        return TwoFactorMissing()
    return None


@lru_cache(maxsize=4)
def _user_with_session_sql(alias: str) -> tuple[str, tuple[str, ...]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    users, sessions = User._meta, AuthSession._meta
    fields = users.concrete_fields
    columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns}, EXISTS(SELECT 1 FROM {quote(sessions.db_table)} s"  # noqa: S608 - names are ours
        f" WHERE s.{quote(sessions.pk.column)} = %s"
        f" AND s.{quote(sessions.get_field('user').column)} = u.{quote(users.pk.column)}"
        f" AND s.{quote(sessions.get_field('ended_at').column)} IS NULL)"
        f" FROM {quote(users.db_table)} u WHERE u.{quote(users.pk.column)} = %s"
    )
    return sql, tuple(field.attname for field in fields)


def _user_row_with_session_state(user_id: int, session_id: uuid.UUID) -> tuple[tuple | None, bool]:
    """The user's columns as the database returned them (every concrete field, in model order)
    and whether the session is live, in one statement.

    Written as SQL, and the row turned into a User by `Model.from_db` as the ORM itself does
    (`_user_from_columns`), because it runs on every authenticated request that the cache does
    not serve: compiling the same query through the ORM (a filter, an Exists annotation, LIMIT),
    or mapping the columns of a raw() query, cost more CPU each time than the database took to
    answer.
    """
    alias = router.db_for_read(User)
    connection = connections[alias]
    sql, _attnames = _user_with_session_sql(alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [AuthSession._meta.pk.get_db_prep_value(session_id, connection), user_id])
        row = cursor.fetchone()
    if row is None:
        return None, False
    *columns, session_live = row
    return tuple(columns), bool(session_live)


def _user_from_columns(alias: str, layout: tuple, columns) -> User:
    """A User from raw columns of `layout` (`_layout`), converted as the ORM converts them."""
    connection = connections[alias]
    attnames, converters = layout
    values = [
        converter(value, expression, connection) if converter else value
        for value, (converter, expression) in zip(columns, converters, strict=True)
    ]
    return User.from_db(alias, attnames, values)


@lru_cache(maxsize=8)
def _layout(alias: str, cached: bool) -> tuple[tuple[str, ...], tuple]:
    """The attnames and per-column converters of the row read from the database, or (`cached`)
    of its cached copy: every column but the password hash, which a User from the cache loads
    from the database only if something asks for it."""
    attnames = _user_with_session_sql(alias)[1]
    converters = _converters(alias)
    if not cached:
        return attnames, converters
    kept = [i for i, name in enumerate(attnames) if name != "password"]
    return tuple(attnames[i] for i in kept), tuple(converters[i] for i in kept)


def _without_password(alias: str, columns: tuple) -> tuple:
    password = _user_with_session_sql(alias)[1].index("password")
    return columns[:password] + columns[password + 1 :]


def _user_with_session_state(user_id: int, session_id: uuid.UUID) -> tuple[User | None, bool]:
    """The user and whether the session is live, from the database."""
    columns, session_live = _user_row_with_session_state(user_id, session_id)
    if columns is None:
        return None, False
    alias = router.db_for_read(User)
    return _user_from_columns(alias, _layout(alias, False), columns), session_live


def _user_with_session_state_cached(
    user_id: int, session_id: uuid.UUID, request=None
) -> tuple[User | None, bool, str | None, bool | None]:
    """The same, from the cache when both entries are there, else from the database (and then
    cached); also the password's revocation digest, since a cached User has no password hash, and,
    for staff while REQUIRE_2FA_FOR_STAFF holds, whether two-factor sign-in is on (else None: not
    asked).
    The cache's round trip also counts `request` in the general throttles (auth_cache.lookup)."""
    alias = router.db_for_read(User)
    layout = _layout(alias, True)
    found = auth_cache.lookup(user_id, session_id, request=request)
    if found is not None and found.complete and found.user_entry[0] == layout[0]:
        _attnames, columns, digest, two_factor_on = found.user_entry
        user = _user_from_columns(alias, layout, columns)
        return user, found.session_user_id == user_id, digest, two_factor_on
    columns, session_live = _user_row_with_session_state(user_id, session_id)
    if columns is None:
        if found is not None:
            auth_cache.fill(found, user_entry=None, session_user_id=None)
        return None, False, None, None
    user = _user_from_columns(alias, _layout(alias, False), columns)
    digest = get_md5_hash_password(user.password)
    # Asked only where the answer matters; a TwoFactor saved or deleted forgets the entry.
    two_factor_on = None
    if settings.REQUIRE_2FA_FOR_STAFF and (user.is_staff or user.is_superuser):
        two_factor_on = TwoFactor.enabled_for(user_id)
    if found is not None:
        auth_cache.fill(
            found,
            user_entry=(layout[0], _without_password(alias, columns), digest, two_factor_on),
            session_user_id=user_id if session_live else None,
        )
    return user, session_live, digest, two_factor_on


@lru_cache(maxsize=4)
def _converters(alias: str) -> tuple:
    """The backend's value converters per column (SQLite returns datetimes as text, for one)."""
    connection = connections[alias]
    converters = []
    for field in User._meta.concrete_fields:
        column = field.get_col(User._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converters.append((_chain(found), column) if found else (None, None))
    return tuple(converters)


def _chain(converters):
    def convert(value, expression, connection):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


def access_token_user(token: AccessToken, *, cached: bool = False, request=None) -> User:
    """The user an access token authenticates, or the reason it may not: one query, or (`cached`,
    for a read) none when the cache holds the user and the session. With `cached`, the DRF
    `request` being authenticated lets that round trip count it in the general throttles too."""
    user_id, session_id = user_id_claim(token), session_id_claim(token)
    digest = two_factor_on = None
    if session_id is None:
        user, session_live = User.objects.filter(pk=user_id).first(), None
    elif cached:
        user, session_live, digest, two_factor_on = _user_with_session_state_cached(
            user_id, session_id, request
        )
    else:
        user, session_live = _user_with_session_state(user_id, session_id)
    refusal = token_refusal(
        user, token, session_live=session_live, password_digest=digest, two_factor_on=two_factor_on
    )
    if refusal is not None:
        raise refusal
    return user
