"""Sign-in: the password, the second step it may call for, and the session it ends with.

    password ──> auth_login ──> no second step: session_start (sessions.py), the first token pair
                     │
                     ├─> two-factor sign-in on: a challenge (`mfa_token` on the wire), finished
                     │   at sign_in_verify with a code of a factor (two_factor.py checks it)
                     └─> staff who must enrol first (REQUIRE_2FA_FOR_STAFF): a challenge of
                         purpose `enrol`, a 403 carrying it; finished at enrolment_confirm with
                         the first code of an authenticator app

Every attempt, right or wrong, password or code, is one LoginEvent (`login_attempt_record`).
The admin site signs in with the same steps (`second_step_start`, `sign_in_verify`,
`enrolment_confirm` without tokens) and then calls Django's `login()`.

A challenge is random, handed out once and kept only as a hash (TwoFactorChallenge). Every code
tried on it counts, on it (MFA_TOKEN_MAX_ATTEMPTS) and through it on the account
(MFA_MAX_FAILURES_PER_USER in MFA_FAILURE_WINDOW_MINUTES), and stays counted although the answer
is an error: those functions commit first and raise after. Locks are taken in two_factor.py's
order: user row, challenge, two-factor row, SMS code, recovery code.

This module stands above sessions.py and two_factor.py, which import nothing from it (the
import contract in pyproject.toml says so).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.request import Request

from apps.accounts.models import SMSCode, TwoFactorChallenge, TwoFactorMethod, User
from apps.accounts.services.sessions import session_start
from apps.accounts.services.sms_codes import sms_code_issue
from apps.accounts.services.two_factor import (
    TOTP_CODE_USED,
    recovery_codes_left,
    second_factor_match,
    totp_pending_step,
    totp_turn_on,
    two_factor_locked,
    two_factor_methods,
    two_factor_of,
    two_factor_required,
    two_factor_status,
    two_factor_use_record,
)
from apps.accounts.tokens import challenge_token_hash, challenge_token_make
from apps.analytics.models import LoginEvent
from apps.analytics.services import login_event_create
from apps.core import errors
from apps.core.client_address import client_ip
from apps.logs.services import audit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ENROL_AT = "/api/v1/auth/2fa/totp/setup/"
_EVENT_METHOD = {
    TwoFactorMethod.TOTP: LoginEvent.Method.TOTP,
    TwoFactorMethod.SMS: LoginEvent.Method.SMS,
    TwoFactorMethod.RECOVERY: LoginEvent.Method.RECOVERY,
}


class InvalidCredentials(errors.AuthenticationFailed):
    default_code = "invalid_credentials"
    default_message = _("No active account found with the given credentials.")


class TwoFactorTokenInvalid(errors.AuthenticationFailed):
    """The challenge token is unknown, used up or expired (the API's `mfa_token_invalid`)."""

    default_code = "mfa_token_invalid"
    default_message = _("This mfa_token is invalid, used up or expired; sign in again.")


class TwoFactorEnrolmentRequired(errors.PermissionDenied):
    """A staff member signed in with the right password, but must turn on two-factor sign-in first;
    the body carries the challenge's token for the enrolment endpoints."""

    default_code = "mfa_enrolment_required"

    def __init__(self, challenge_token: str):
        super().__init__(
            _(
                "Staff accounts must turn on two-factor sign-in before they can sign in. Set up an "
                "authenticator app at %(url)s, sending `Authorization: MFA <mfa_token>`."
            )
            % {"url": ENROL_AT},
            extra_body={"mfa_token": challenge_token, "enrol_at": ENROL_AT},
        )


@dataclass(frozen=True)
class SecondStep:
    """What a right password leads to when it is not enough: the challenge's token, what it is for
    (`TwoFactorChallenge.Purpose`), and the methods that can finish a sign-in."""

    token: str
    purpose: str
    methods: list[str] = field(default_factory=list)


# --- Recording ------------------------------------------------------------------------------------------
def login_attempt_record(
    *,
    email: str,
    user: User | None,
    method: str,
    request: HttpRequest | Request | None,
    user_id: int | None = None,
    mfa_pending: bool = False,
) -> None:
    """Decide what a sign-in attempt records, and record it (analytics' `login_event_create`):
    success when `user` is given, the account it was aimed at (a failure names it when one has
    that email), the client's address and user agent."""
    if user_id is None:
        user_id = user.pk if user is not None else _account_id(email)
    login_event_create(
        email=email,
        success=user is not None,
        method=method,
        user_id=user_id,
        mfa_pending=mfa_pending,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "") if request else "",
    )


def _account_id(email: str) -> int | None:
    return User.objects.with_email(email).values_list("pk", flat=True).first()


# --- The password ---------------------------------------------------------------------------------------
def auth_login(
    *, email: str, password: str, request: HttpRequest | Request | None
) -> tuple[User, dict[str, Any]]:
    """Check the credentials, record the attempt, and answer the first token pair of a new session.

    For an account with two-factor sign-in on, the answer is `{mfa_required, mfa_token, methods}`
    instead, finished at `sign_in_verify`; a staff member who must turn it on first gets
    TwoFactorEnrolmentRequired (a 403), raised once its challenge is stored.
    """
    with transaction.atomic():
        user = authenticate(request, email=email, password=password)
        if user is None:
            login_attempt_record(email=email, user=None, method=LoginEvent.Method.PASSWORD, request=request)
            raise InvalidCredentials()
        second_step = second_step_start(user=user, request=request)
        login_attempt_record(
            email=email,
            user=user,
            method=LoginEvent.Method.PASSWORD,
            request=request,
            mfa_pending=second_step is not None,
        )
        if second_step is None:
            return user, _sign_in_complete(user, request)
    if second_step.purpose == TwoFactorChallenge.Purpose.ENROL:
        raise TwoFactorEnrolmentRequired(second_step.token)
    return user, {"mfa_required": True, "mfa_token": second_step.token, "methods": second_step.methods}


def second_step_start(*, user: User, request: HttpRequest | Request | None = None) -> SecondStep | None:
    """After a right password: None when the sign-in may finish now, else the challenge that asks
    for a second factor, or, for staff who must turn two-factor sign-in on first, for enrolment."""
    two_factor = two_factor_of(user)
    if two_factor is not None and two_factor.is_enabled:
        purpose, methods = TwoFactorChallenge.Purpose.SIGN_IN, two_factor_methods(user, two_factor)
    elif two_factor_required(user):
        purpose, methods = TwoFactorChallenge.Purpose.ENROL, []
    else:
        return None
    return SecondStep(challenge_start(user=user, purpose=purpose, request=request), purpose, methods)


# --- The challenge --------------------------------------------------------------------------------------
def challenge_start(*, user: User, purpose: str, request: HttpRequest | Request | None = None) -> str:
    """A new challenge for `user`; returns its token, of which only the hash is kept."""
    token = challenge_token_make()
    now = timezone.now()
    TwoFactorChallenge.objects.create(
        user=user,
        purpose=purpose,
        token_hash=challenge_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MFA_TOKEN_SECONDS),
        ip=client_ip(request),
    )
    return token


def challenge_of(token: str, *, purpose: str) -> TwoFactorChallenge | None:
    """The live challenge of `token` with its user, unlocked; None for any other token."""
    if not isinstance(token, str) or not token:
        return None
    challenge = (
        TwoFactorChallenge.objects.select_related("user")
        .filter(token_hash=challenge_token_hash(token), purpose=purpose)
        .first()
    )
    if challenge is None or not challenge.is_live() or not challenge.user.is_active:
        return None
    return challenge


def _locked_user(user_or_id: User | int) -> User:
    return User.objects.select_for_update().get(pk=getattr(user_or_id, "pk", user_or_id))


def _locked_challenge(challenge: TwoFactorChallenge) -> TwoFactorChallenge | None:
    """The challenge's row, locked and read again (None: deleted meanwhile, as turning two-factor
    sign-in off does)."""
    return TwoFactorChallenge.objects.select_for_update().filter(pk=challenge.pk).first()


def _tries_left_message(challenge: TwoFactorChallenge) -> "StrOrPromise":
    left = settings.MFA_TOKEN_MAX_ATTEMPTS - challenge.attempts
    if left <= 0:
        return _("This code is wrong, and that was the last try; sign in again.")
    return ngettext(
        "This code is wrong; %(left)d try left.", "This code is wrong; %(left)d tries left.", left
    ) % {"left": left}


def _failures_of(user: User, now: datetime) -> tuple[int, datetime | None]:
    since = now - timedelta(minutes=settings.MFA_FAILURE_WINDOW_MINUTES)
    recent = TwoFactorChallenge.objects.filter(user=user, created_at__gte=since, failures__gt=0)
    failures = recent.aggregate(total=Sum("failures"))["total"] or 0
    oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
    return failures, oldest


# --- The second step ------------------------------------------------------------------------------------
@transaction.atomic
def sign_in_sms_send(*, challenge_token: str, request: HttpRequest | Request | None = None) -> None:
    """Text a sign-in code for this challenge to the account's verified number."""
    found = challenge_of(challenge_token, purpose=TwoFactorChallenge.Purpose.SIGN_IN)
    if found is None:
        raise TwoFactorTokenInvalid()
    user = _locked_user(found.user)
    challenge = _locked_challenge(found)
    if challenge is None or not challenge.is_live():
        raise TwoFactorTokenInvalid()
    if TwoFactorMethod.SMS.value not in two_factor_methods(user, two_factor_of(user)):
        raise errors.InvalidInput({"mfa_token": [_("Text message codes are not on for this account.")]})
    if challenge.sms_sent >= settings.MFA_SMS_MAX_SENDS:
        wait = (challenge.expires_at - timezone.now()).total_seconds()
        raise errors.RateLimited(_("No more codes for this sign-in; sign in again later."), wait=max(wait, 1))
    challenge.sms_sent += 1
    challenge.save(update_fields=["sms_sent"])
    sms_code_issue(user=user, purpose=SMSCode.Purpose.SIGN_IN, challenge=challenge)


def sign_in_verify(
    *,
    challenge_token: str,
    code: str,
    request: HttpRequest | Request | None = None,
    issue_tokens: bool = False,
) -> tuple[User, str, dict[str, str]]:
    """Finish the second step of a sign-in: (user, method) for a right code, which uses the
    challenge up. Every try counts on the challenge and, through it, on the account, and is a
    LoginEvent; a wrong code is a 400 on `code`, a dead challenge a 401 (`mfa_token_invalid`), too
    many wrong codes for the account lately a 429.

    With `issue_tokens`, the same transaction starts the session and returns its first token pair;
    the admin site signs the user in its own way.
    """
    found = challenge_of(challenge_token, purpose=TwoFactorChallenge.Purpose.SIGN_IN)
    if found is None:
        raise TwoFactorTokenInvalid()
    refusal: StrOrPromise | None = None
    tokens: dict[str, str] = {}
    with transaction.atomic():
        user = _locked_user(found.user)
        challenge = _locked_challenge(found)
        now = timezone.now()  # after the locks: a try that waited for them must not gain time
        if challenge is None or not challenge.is_live(now) or not user.is_active:
            raise TwoFactorTokenInvalid()
        failures, oldest = _failures_of(user, now)
        if failures >= settings.MFA_MAX_FAILURES_PER_USER:
            assert oldest is not None  # failures were counted (the limit is at least 1), so on a challenge
            wait = (oldest + timedelta(minutes=settings.MFA_FAILURE_WINDOW_MINUTES) - now).total_seconds()
            raise errors.RateLimited(
                _("Too many wrong codes for this account; try again later."), wait=max(wait, 1)
            )
        two_factor = two_factor_locked(user)
        if two_factor is None or not two_factor.is_enabled:
            raise TwoFactorTokenInvalid()  # turned off (or reset) since the password step
        method, tried_as, why = second_factor_match(
            user, two_factor, code, sms_purpose=SMSCode.Purpose.SIGN_IN, challenge=challenge, now=now
        )
        if why == TOTP_CODE_USED:
            refusal = why  # the app's own code, only too late: not a guess, so no try spent
        elif method is None:
            challenge.attempts += 1
            challenge.failures += 1
            refusal = _tries_left_message(challenge)
        else:
            challenge.attempts += 1
            challenge.used_at = now
            two_factor_use_record(two_factor=two_factor, method=method, now=now)
        challenge.save(update_fields=["attempts", "failures", "used_at"])
        login_attempt_record(
            email=user.email,
            user=user if method is not None else None,
            user_id=user.pk,
            method=_EVENT_METHOD[method or tried_as],
            request=request,
        )
        if method == TwoFactorMethod.RECOVERY:
            audit(
                action="user.recovery_code_use",
                actor=user,
                target=user,
                changes={"recovery_codes_left": [None, recovery_codes_left(user)]},
                request=request,
            )
        if method is not None and issue_tokens:
            tokens = _sign_in_complete(user, request, second_factor=method)
    if refusal is not None:
        raise errors.InvalidInput({"code": [refusal]})
    assert method is not None  # a code right for no method was refused above
    return user, method, tokens


def enrolment_confirm(
    *,
    challenge: TwoFactorChallenge,
    code: str,
    request: HttpRequest | Request | None = None,
    issue_tokens: bool = True,
) -> dict[str, Any]:
    """Finish a staff member's enrolment at sign-in: the first code of the authenticator app set up
    with the enrolment challenge turns the app on, and the sign-in finishes with it.

    The challenge was given for the right password a moment ago, to an account without a factor, so
    the app's code alone does. Each try counts on the challenge (MFA_TOKEN_MAX_ATTEMPTS) and is a
    LoginEvent, as at `sign_in_verify`. Returns the status, the recovery codes when these are the
    user's first, and, with `issue_tokens`, the first token pair of a new session (the admin site,
    which signs in its own way, passes False).
    """
    refusal = None
    result: dict[str, Any] = {}
    with transaction.atomic():
        user = _locked_user(challenge.user)
        locked = _locked_challenge(challenge)
        if locked is None or not locked.is_live():
            raise TwoFactorTokenInvalid()
        challenge = locked
        now = timezone.now()
        two_factor, step = totp_pending_step(user=user, code=code, now=now)
        challenge.attempts += 1
        challenge.failures += step is None
        challenge.used_at = now if step is not None else None
        challenge.save(update_fields=["attempts", "failures", "used_at"])
        login_attempt_record(
            email=user.email,
            user=user if step is not None else None,
            user_id=user.pk,
            method=LoginEvent.Method.TOTP,
            request=request,
        )
        if step is None:
            refusal = _tries_left_message(challenge)
        else:
            codes = totp_turn_on(user=user, two_factor=two_factor, step=step, now=now, request=request)
            if codes is not None:
                result["recovery_codes"] = codes
            two_factor_use_record(two_factor=two_factor, method=TwoFactorMethod.TOTP, now=now)
            if issue_tokens:
                result.update(_sign_in_complete(user, request, second_factor=TwoFactorMethod.TOTP))
            result["status"] = two_factor_status(user)
    if refusal is not None:
        raise errors.InvalidInput({"code": [refusal]})
    return result


# --- The end --------------------------------------------------------------------------------------------
def _sign_in_complete(
    user: User, request: HttpRequest | Request | None, *, second_factor: str | None = None
) -> dict[str, str]:
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    audit(
        action="user.login",
        actor=user,
        target=user,
        changes={"second_factor": [None, second_factor]} if second_factor else None,
        request=request,
    )
    return session_start(user=user, request=request)
