"""Sessions and their token pairs: starting one, rotating its tokens, signing out, ending them all.

A sign-in (signin.py) starts an `AuthSession`; its refresh tokens rotate within it, and every
token names it (`sid`, see apps/accounts/jwt.py). A session ends on sign-out, on sign-out
everywhere, on a password change or reset, on deactivation, and when a refresh token that was
already rotated is presented again: that is either a client bug or a stolen token, and nobody
can tell which copy is the thief's, so the whole family dies (OAuth 2.0 Security BCP, RFC 9700
section 4.14.2). It also ends at the first refresh after SESSION_MAX_LIFETIME_DAYS from its
sign-in: each rotation renews the refresh token's own expiry, so without that bound a session
would never end.

A refused token is a domain error of the status and code the API has always answered; jwt.py,
which the authentication classes share, states its refusals in DRF's terms, and
`_refusals_as_domain_errors` restates them.
"""

import functools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.request import Request
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import Token

from apps.accounts import auth_cache
from apps.accounts.jwt import (
    SessionEnded,
    SessionRefreshToken,
    TokenInvalid,
    refresh_token_issue,
    session_id_claim,
    token_decode,
    token_refusal,
    user_id_claim,
)
from apps.accounts.models import AuthSession, User
from apps.core import errors
from apps.core.client_address import client_ip
from apps.logs.services import audit

USER_AGENT_MAX_LENGTH = AuthSession._meta.get_field("user_agent").max_length

Params = ParamSpec("Params")
Result = TypeVar("Result")


class RefreshTokenReused(errors.AuthenticationFailed):
    default_code = TokenInvalid.default_code
    default_message = _("This refresh token was already used; its session has ended. Sign in again.")


class SessionTooOld(errors.AuthenticationFailed):
    default_code = SessionEnded.default_code
    default_message = _("This session has reached its maximum lifetime; sign in again.")


def _domain_error(refusal: APIException) -> errors.DomainError:
    """A refusal of jwt.py as the domain error of the same status, code and message."""
    detail = refusal.detail
    if isinstance(detail, ErrorDetail):
        message, code = detail, detail.code
    else:  # SimpleJWT's {"detail": …, "code": …}
        simplejwt_detail = cast(dict[str, ErrorDetail], detail)
        message, code = simplejwt_detail["detail"], simplejwt_detail["code"]
    error = errors.PermissionDenied if refusal.status_code == 403 else errors.AuthenticationFailed
    return error(str(message), code=str(code))


def _refusals_as_domain_errors(service: Callable[Params, Result]) -> Callable[Params, Result]:
    @functools.wraps(service)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return service(*args, **kwargs)
        except APIException as refusal:
            raise _domain_error(refusal) from refusal

    return wrapper


def _session_max_lifetime() -> timedelta:
    return timedelta(days=settings.SESSION_MAX_LIFETIME_DAYS)


def _too_old(session: AuthSession) -> bool:
    return session.created_at <= timezone.now() - _session_max_lifetime()


# --- Starting and ending sessions -----------------------------------------------------------------------
def session_start(*, user: User, request: HttpRequest | Request | None = None) -> dict[str, str]:
    """A new session for `user`, and its first token pair."""
    session = AuthSession.objects.create(
        user=user,
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:USER_AGENT_MAX_LENGTH],
    )
    return refresh_token_issue(session)


def _sessions_end(sessions: QuerySet[AuthSession], reason: str) -> int:
    now = timezone.now()
    ended = sessions.filter(ended_at__isnull=True).update(ended_at=now, end_reason=reason)
    if ended:
        # The cache says a session is live until told otherwise (apps/accounts/auth_cache.py).
        ended_now = sessions.filter(ended_at=now, end_reason=reason)
        auth_cache.forget_sessions(ended_now.values_list("pk", flat=True))
    return ended


def sessions_end_all(*, user: User, reason: str) -> int:
    """End every session of the user, and refuse any token issued before now (also tokens
    without a session); returns how many sessions were live."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(tokens_valid_after=now)
    user.tokens_valid_after = now
    auth_cache.forget_user(user.pk)  # update() sends no post_save
    return _sessions_end(AuthSession.objects.filter(user=user), reason)


# --- Rotation and sign-out ------------------------------------------------------------------------------
def _lock(token: Token) -> tuple[OutstandingToken | None, AuthSession | None, bool]:
    """Lock the token's row, then its session's (always in this order: no deadlock between a
    refresh and a sign-out), and blacklist the token. The flag says whether this call did; when
    it did not, the token had been used before.
    """
    # get() would drop the model's ordering by user, whose outer join FOR UPDATE cannot lock.
    rows = OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM])
    outstanding = rows.order_by().first()
    if outstanding is None:
        return None, None, False
    session_id = session_id_claim(token)
    session = None
    if session_id is not None:
        session = (
            AuthSession.objects.select_for_update()
            .filter(pk=session_id, user_id=user_id_claim(token))
            .order_by()
            .first()
        )
    _entry, blacklisted_now = BlacklistedToken.objects.get_or_create(token=outstanding)
    return outstanding, session, blacklisted_now


def _reuse_detected(session: AuthSession | None, request: HttpRequest | Request | None) -> Exception:
    if session is not None and session.is_live:
        _sessions_end(AuthSession.objects.filter(pk=session.pk), AuthSession.EndReason.REFRESH_REUSE)
        audit(
            action="user.session_revoke",
            target=session.user,
            changes={"session": [str(session.pk), None], "reason": [None, "refresh_reuse"]},
            request=request,
        )
    return RefreshTokenReused()


@_refusals_as_domain_errors
def token_refresh(*, refresh: str, request: HttpRequest | Request | None = None) -> dict[str, str]:
    """Rotate a refresh token: the presented one dies, a new pair of the same session is returned.

    Two concurrent refreshes of one token must not both succeed, so the token's row is locked
    and this call must *create* its blacklist entry. A token whose entry already exists was
    used before: its session ends, and that must stand although the call fails, so the
    decision is committed first and the error raised after.
    """
    token = token_decode(refresh, SessionRefreshToken)
    refusal: Exception | None
    tokens: dict[str, str] | None
    with transaction.atomic():
        outstanding, session, blacklisted_now = _lock(token)
        if outstanding is None:
            refusal, tokens = TokenInvalid(), None
        elif not blacklisted_now:
            refusal, tokens = _reuse_detected(session, request), None
        elif session is not None and session.is_live and _too_old(session):
            _sessions_end(AuthSession.objects.filter(pk=session.pk), AuthSession.EndReason.EXPIRED)
            refusal, tokens = SessionTooOld(), None
        else:
            user = session.user if session else User.objects.filter(pk=user_id_claim(token)).first()
            live = None if session_id_claim(token) is None else bool(session and session.is_live)
            refusal, tokens = token_refusal(user, token, session_live=live), None
            if refusal is None:
                assert user is not None  # token_refusal refuses a missing user
                if session is None:
                    tokens = session_start(user=user, request=request)  # a token from before sessions
                else:
                    session.last_refreshed_at = timezone.now()
                    session.save(update_fields=["last_refreshed_at"])
                    tokens = refresh_token_issue(session)
    if refusal is not None:
        raise refusal
    assert tokens is not None  # every branch that refuses nothing issues tokens
    return tokens


@_refusals_as_domain_errors
def auth_logout(*, user: User, refresh: str, request: Request | None) -> None:
    """End the session of `refresh`, and that of the access token the call was made with.

    A refresh token that is not the caller's, or is already dead, is a 401 like everywhere else;
    one that was already rotated also ends its session, as at refresh.
    """
    token = token_decode(refresh, SessionRefreshToken)
    if user_id_claim(token) != user.pk:
        raise TokenInvalid()
    refusal: Exception | None
    with transaction.atomic():
        outstanding, session, blacklisted_now = _lock(token)
        if outstanding is None:
            refusal = TokenInvalid()
        elif not blacklisted_now:
            refusal = _reuse_detected(session, request)
        elif session is not None and not session.is_live:
            refusal = SessionEnded()
        else:
            refusal = None
            ended = [session.pk] if session is not None else []
            access = request.auth if request is not None else None
            current = session_id_claim(access) if isinstance(access, Token) else None
            if current is not None:
                ended.append(current)
            _sessions_end(AuthSession.objects.filter(user=user, pk__in=ended), AuthSession.EndReason.LOGOUT)
            audit(action="user.logout", actor=user, target=user, request=request)
    if refusal is not None:
        raise refusal


@transaction.atomic
def auth_logout_all(*, user: User, request: HttpRequest | Request | None = None) -> int:
    """Sign out everywhere: every session ends, every token issued until now is refused."""
    ended = sessions_end_all(user=user, reason=AuthSession.EndReason.LOGOUT_ALL)
    audit(
        action="user.logout_all", actor=user, target=user, changes={"sessions": [ended, 0]}, request=request
    )
    return ended


@transaction.atomic
def session_end(*, user: User, session_id: uuid.UUID, request: HttpRequest | Request | None = None) -> bool:
    """End one of `user`'s own sessions (`DELETE auth/sessions/{id}/`): signing out of it from
    elsewhere, so it ends as `auth_logout` ends one, with the same reason and audit entry.

    Its access tokens are refused from their next request (the session is forgotten by the auth
    cache) and its refresh token at its next use. That token is not blacklisted here, since refresh
    tokens are recorded by id alone and nothing ties one to its session but its own `sid` claim;
    `token_refresh` blacklists it when it is presented and refuses it because the session ended.
    Returns whether the session was live: ending an ended one again changes nothing. Someone
    else's session is not found, like one that does not exist.
    """
    session = AuthSession.objects.select_for_update().filter(pk=session_id, user=user).order_by().first()
    if session is None:
        raise errors.NotFound()
    if not session.is_live:
        return False
    _sessions_end(AuthSession.objects.filter(pk=session.pk), AuthSession.EndReason.LOGOUT)
    audit(
        action="user.logout",
        actor=user,
        target=user,
        changes={"session": [str(session.pk), None]},
        request=request,
    )
    return True


@transaction.atomic
def sessions_revoke(
    *, sessions: QuerySet[AuthSession], actor: User, request: HttpRequest | Request | None = None
) -> int:
    """Staff end chosen sessions (the admin's action)."""
    ended = 0
    for session in sessions.select_related("user").filter(ended_at__isnull=True):
        ended += _sessions_end(AuthSession.objects.filter(pk=session.pk), AuthSession.EndReason.ADMIN)
        audit(
            action="user.session_revoke",
            actor=actor,
            target=session.user,
            changes={"session": [str(session.pk), None], "reason": [None, "admin"]},
            request=request,
        )
    return ended


def sessions_prune() -> int:
    """Delete sessions none of whose tokens can still be valid; returns how many."""
    now = timezone.now()
    cutoff = now - jwt_settings.REFRESH_TOKEN_LIFETIME
    # Past its maximum lifetime a session's refresh is refused; its last access token is then
    # dead once that has passed too.
    too_old = now - _session_max_lifetime() - jwt_settings.ACCESS_TOKEN_LIFETIME
    stale = AuthSession.objects.filter(created_at__lt=cutoff).filter(
        Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lt=cutoff) | Q(created_at__lt=too_old)
    )
    deleted, _ = stale.delete()
    return deleted
