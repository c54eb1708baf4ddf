"""Two-factor sign-in: turning it on (an authenticator app, SMS codes), recovery codes, the second
step of a sign-in (the `mfa_token`), turning it off, and staff's reset.

A user has 2FA on while the authenticator app (TOTP) or SMS codes are enabled; a sign-in with the
right password then gets an `mfa_token` instead of tokens, and finishes at `mfa_verify` with a code
of either method or a recovery code. With REQUIRE_2FA_FOR_STAFF, a staff member without 2FA gets an
`mfa_token` of purpose `enrol` instead, which only the TOTP setup and confirm endpoints take.

A signed-in user adds a factor, turns 2FA off or changes the phone number (phone.py) only with the
password and, while 2FA is on, a current code of a factor that is on (`reauthentication_refusal`):
an access token alone must not be enough to keep the account. The enrolment mfa_token has proven
the password already.

Locks are always taken in one order: user row, mfa challenge, two-factor row, SMS code, recovery
code. Every check of a code counts as a try and stays counted although the answer is an error, so
those functions commit first and raise after, as phone.py does.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.exceptions import AuthenticationFailed, Throttled

from apps.accounts import otp
from apps.accounts.models import MFAChallenge, RecoveryCode, SMSCode, TwoFactor, TwoFactorMethod, User
from apps.accounts.services.sessions import login_record, session_start
from apps.accounts.services.sms_codes import (
    sms_code_issue,
    sms_code_locked,
    sms_code_refusal,
    sms_code_try,
    sms_code_wrong,
)
from apps.accounts.tokens import (
    RECOVERY_CODE_ALPHABET,
    RECOVERY_CODE_LENGTH,
    mfa_token_hash,
    mfa_token_make,
    recovery_code_hashes,
    recovery_code_make,
    recovery_code_normalize,
)
from apps.analytics.models import LoginEvent
from apps.core.client_address import client_ip
from apps.core.encryption import decrypt, encrypt
from apps.core.exceptions import Conflict
from apps.logs.services import audit
from apps.notifications.services import notify

RECOVERY_CODE_COUNT = 10
TOTP_CODE_USED = _("This code was already used; wait for the app's next one.")
ENROL_AT = "/api/v1/auth/2fa/totp/setup/"
METHOD_NAMES = {
    TwoFactorMethod.TOTP: "authenticator app",
    TwoFactorMethod.SMS: "text message codes",
    TwoFactorMethod.RECOVERY: "recovery codes",
}
_EVENT_METHOD = {
    TwoFactorMethod.TOTP: LoginEvent.Method.TOTP,
    TwoFactorMethod.SMS: LoginEvent.Method.SMS,
    TwoFactorMethod.RECOVERY: LoginEvent.Method.RECOVERY,
}


class MFATokenInvalid(AuthenticationFailed):
    default_detail = _("This mfa_token is invalid, used up or expired; sign in again.")
    default_code = "mfa_token_invalid"


class MFAEnrolmentRequired(exceptions.PermissionDenied):
    """A staff member signed in with the right password, but must turn on 2FA first; the body
    carries an `mfa_token` for the enrolment endpoints (`extra_body`, see apps.core.exceptions)."""

    default_code = "mfa_enrolment_required"

    def __init__(self, mfa_token: str):
        super().__init__(
            _(
                "Staff accounts must turn on two-factor sign-in before they can sign in. Set up an "
                "authenticator app at %(url)s, sending `Authorization: MFA <mfa_token>`."
            )
            % {"url": ENROL_AT}
        )
        self.extra_body = {"mfa_token": mfa_token, "enrol_at": ENROL_AT}


# --- Reading the state ----------------------------------------------------------------------------------
def two_factor_of(user: User) -> TwoFactor | None:
    return TwoFactor.objects.filter(user=user).first()


def two_factor_enabled(user: User) -> bool:
    two_factor = two_factor_of(user)
    return two_factor is not None and two_factor.is_enabled


def two_factor_required(user: User) -> bool:
    """Whether REQUIRE_2FA_FOR_STAFF applies to this account."""
    return settings.REQUIRE_2FA_FOR_STAFF and (user.is_staff or user.is_superuser)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def two_factor_methods(user: User, two_factor: TwoFactor | None) -> list[str]:
    """The methods a sign-in of `user` can be finished with now."""
    if two_factor is None or not two_factor.is_enabled:
        return []
    methods = []
    if two_factor.totp_enabled_at is not None:
        methods.append(TwoFactorMethod.TOTP.value)
    if two_factor.sms_enabled_at is not None and user.is_phone_verified:
        methods.append(TwoFactorMethod.SMS.value)
    if recovery_codes_left(user):
        methods.append(TwoFactorMethod.RECOVERY.value)
    return methods


def two_factor_status(user: User) -> dict:
    two_factor = two_factor_of(user)
    enabled = two_factor is not None and two_factor.is_enabled
    return {
        "enabled": enabled,
        "methods": two_factor_methods(user, two_factor),
        "totp_enabled_at": two_factor.totp_enabled_at if two_factor else None,
        "sms_enabled_at": two_factor.sms_enabled_at if two_factor else None,
        "recovery_codes_left": recovery_codes_left(user) if enabled else 0,
        "last_used_at": two_factor.last_used_at if two_factor else None,
        "last_used_method": (two_factor.last_used_method or None) if two_factor else None,
        "required": two_factor_required(user),
    }


# --- Small pieces ---------------------------------------------------------------------------------------
def _locked_user(user_or_id) -> User:
    return User.objects.select_for_update().get(pk=getattr(user_or_id, "pk", user_or_id))


def _locked_two_factor(user: User, *, create: bool = False) -> TwoFactor | None:
    if create:
        TwoFactor.objects.get_or_create(user=user)
    return TwoFactor.objects.select_for_update().filter(user=user).first()


def _methods_enabled(two_factor: TwoFactor | None) -> list[str]:
    if two_factor is None:
        return []
    return [
        method
        for method, at in (
            (TwoFactorMethod.TOTP.value, two_factor.totp_enabled_at),
            (TwoFactorMethod.SMS.value, two_factor.sms_enabled_at),
        )
        if at is not None
    ]


def _check_password(user: User, password: str) -> None:
    if not user.check_password(password):
        raise ValidationError({"password": [_("Your password is wrong.")]})


def _recovery_codes_replace(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = recovery_code_make()
        if code not in codes:
            codes.append(code)
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=recovery_code_hashes(user.pk, code)[0]) for code in codes
    )
    return codes


def _enabled(user: User, before: list[str], two_factor: TwoFactor, method: str, request) -> list[str] | None:
    """Audit and announce a method just turned on; the first method also brings recovery codes,
    returned to be shown once (None when the user has them already)."""
    after = _methods_enabled(two_factor)
    audit(
        action="user.two_factor_enable",
        actor=user,
        target=user,
        changes={"methods": [before, after]},
        request=request,
    )
    notify(user=user, key="two_factor_enabled", context={"method": METHOD_NAMES[method]})
    if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists():
        return None
    return _recovery_codes_replace(user)


def _looks_like_recovery_code(code: str) -> bool:
    normalized = recovery_code_normalize(code)
    return len(normalized) == RECOVERY_CODE_LENGTH and all(c in RECOVERY_CODE_ALPHABET for c in normalized)


def _second_factor_match(
    user: User, two_factor: TwoFactor, code: str, *, sms_purpose: str, challenge=None, now
) -> tuple[str | None, str, str | None]:
    """Which method `code` is right for: (method or None, the method it was tried as, why no SMS
    code could be right). A right code is used up: a TOTP step, an SMS code, a recovery code."""
    code = "".join(code.split())
    if _looks_like_recovery_code(code):
        found = (
            RecoveryCode.objects.select_for_update()
            .filter(user=user, code_hash__in=recovery_code_hashes(user.pk, code), used_at__isnull=True)
            .first()
        )
        if found is None:
            return None, TwoFactorMethod.RECOVERY, None
        found.used_at = now
        found.save(update_fields=["used_at"])
        return TwoFactorMethod.RECOVERY, TwoFactorMethod.RECOVERY, None
    reused = False
    if two_factor.totp_enabled_at is not None:
        secret = decrypt(two_factor.totp_secret)
        step = otp.matching_step(secret, code, after_step=two_factor.totp_last_step, now=now.timestamp())
        if step is not None:
            two_factor.totp_last_step = step
            two_factor.save(update_fields=["totp_last_step"])
            return TwoFactorMethod.TOTP, TwoFactorMethod.TOTP, None
        # Right for a step already accepted (often the very code that turned the app on): the
        # user holds the app, so this is no guess, and "wrong" would send them looking for a fault.
        reused = otp.matching_step(secret, code, after_step=None, now=now.timestamp()) is not None
    method, tried_as, refusal = _sms_code_match(
        user, two_factor, code, sms_purpose=sms_purpose, challenge=challenge, now=now
    )
    if method is None and reused:
        return None, TwoFactorMethod.TOTP, TOTP_CODE_USED
    return method, tried_as, refusal


def _sms_code_match(
    user: User, two_factor: TwoFactor, code: str, *, sms_purpose: str, challenge, now
) -> tuple[str | None, str, str | None]:
    if two_factor.sms_enabled_at is None:
        # A code texted to a number that is not a factor (to turn SMS codes on) proves no factor.
        return None, TwoFactorMethod.TOTP, None
    sms_code = sms_code_locked(user=user, purpose=sms_purpose, challenge=challenge)
    if sms_code is None or not sms_code.code_hash:
        tried_as = TwoFactorMethod.TOTP if two_factor.totp_enabled_at else TwoFactorMethod.SMS
        return None, tried_as, sms_code_refusal(sms_code, now) if tried_as == TwoFactorMethod.SMS else None
    refusal = sms_code_refusal(sms_code, now)
    if refusal is None and sms_code_try(sms_code, code, now):
        return TwoFactorMethod.SMS, TwoFactorMethod.SMS, None
    if two_factor.totp_enabled_at is not None or sms_code.challenge_id is not None:
        # The code may have been meant for the app, and a sign-in counts tries on its mfa_token:
        # the SMS code's own state is no answer to give.
        return None, TwoFactorMethod.SMS, None
    return None, TwoFactorMethod.SMS, refusal or sms_code_wrong(sms_code)


def _used(two_factor: TwoFactor, method: str, now) -> None:
    two_factor.last_used_at, two_factor.last_used_method = now, method
    two_factor.save(update_fields=["last_used_at", "last_used_method"])


def _tries_left_message(challenge: MFAChallenge) -> str:
    left = settings.MFA_TOKEN_MAX_ATTEMPTS - challenge.attempts
    if left <= 0:
        return _("This code is wrong, and that was the last try; sign in again.")
    return ngettext(
        "This code is wrong; %(left)d try left.", "This code is wrong; %(left)d tries left.", left
    ) % {"left": left}


# --- Proving it is the owner ----------------------------------------------------------------------------
CODE_NEEDED = _(
    "Two-factor sign-in is on: also give a current code (the authenticator app's, one texted by "
    "auth/2fa/sms/code/, or a recovery code)."
)


def reauthentication_refusal(*, user: User, password: str, code: str, code_field: str, now) -> str | None:
    """The proof asked before a change that would let the holder of a stolen access token keep the
    account (a second factor, the number sign-in and reset codes go to): the password and, while
    two-factor sign-in is on, a current code of a factor that is on, which it uses up.

    A missing or wrong password, or a missing code, raises at once (nothing was counted). A refused
    code is returned instead: an SMS code's try must stay counted, so the caller commits and then
    raises it on `code_field`. Runs in the caller's transaction, which holds the user's lock.
    """
    if not password:
        raise ValidationError({"password": [_("Confirm with your password.")]})
    _check_password(user, password)
    two_factor = _locked_two_factor(user)
    if two_factor is None or not two_factor.is_enabled:
        return None
    if not code:
        raise ValidationError({code_field: [CODE_NEEDED]})
    method, _tried, why = _second_factor_match(
        user, two_factor, code, sms_purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE, now=now
    )
    if method is None:
        return why or _("This code is wrong.")
    return None


# --- Turning it on --------------------------------------------------------------------------------------
@transaction.atomic
def totp_setup(*, user: User, request=None) -> dict:
    """A new secret for an authenticator app, pending until `totp_confirm`; asking again replaces
    a pending one. A 409 while the app is already on: turn 2FA off first."""
    user = _locked_user(user)
    two_factor = _locked_two_factor(user, create=True)
    if two_factor.totp_enabled_at is not None:
        raise Conflict(_("An authenticator app is already on; turn two-factor sign-in off first."))
    secret = otp.secret_make()
    two_factor.totp_pending_secret = encrypt(secret)
    two_factor.save(update_fields=["totp_pending_secret"])
    audit(action="user.two_factor_totp_setup", actor=user, target=user, request=request)
    uri = otp.provisioning_uri(secret, user.email)
    return {"secret": secret, "provisioning_uri": uri, "qr_code": otp.qr_code_data_uri(uri)}


def totp_confirm(
    *,
    user: User,
    code: str,
    password: str = "",
    current_code: str = "",
    request=None,
    challenge: MFAChallenge | None = None,
    issue_tokens: bool = True,
) -> dict:
    """Turn the authenticator app on with a first code of the pending secret.

    Signed in, it also takes the password and, while another factor is on, a current code of it
    (`reauthentication_refusal`): an access token alone must not add a factor, nor hand out the
    recovery codes. An enrolment mfa_token (`challenge`) was given for the right password a moment
    ago, to an account without a factor, so it takes the app's code alone.

    Returns the status, the recovery codes when these are the user's first, and, when the call was
    made with an enrolment mfa_token (`challenge`), the first token pair of a new session: the
    password and now the app have both been proven (the admin site, which signs in its own way,
    passes `issue_tokens=False`). Such a token takes MFA_TOKEN_MAX_ATTEMPTS codes.
    """
    refusal, refused_field = None, "code"
    result: dict = {}
    with transaction.atomic():
        user = _locked_user(user)
        if challenge is not None:
            challenge = MFAChallenge.objects.select_for_update().filter(pk=challenge.pk).first()
            if challenge is None or not challenge.is_live():
                raise MFATokenInvalid()
        two_factor = _locked_two_factor(user)
        if two_factor is None or not two_factor.totp_pending_secret:
            raise ValidationError(
                {"code": [_("Set up an authenticator app first: POST auth/2fa/totp/setup/.")]}
            )
        now = timezone.now()
        step = otp.matching_step(
            decrypt(two_factor.totp_pending_secret), code, after_step=None, now=now.timestamp()
        )
        if challenge is not None:
            challenge.attempts += 1
            challenge.failures += step is None
            challenge.used_at = now if step is not None else None
            challenge.save(update_fields=["attempts", "failures", "used_at"])
            # The enrolment's code is the second step of a sign-in: each try is an event, as at mfa_verify.
            login_record(
                email=user.email,
                user=user if step is not None else None,
                user_id=user.pk,
                method=LoginEvent.Method.TOTP,
                request=request,
            )
        if step is None:
            refusal = (
                _tries_left_message(challenge)
                if challenge is not None
                else _("This code is wrong; check the app's clock and try the newest code.")
            )
        elif challenge is None:
            # After the app's code, which costs nothing: a refused app code must not use up the
            # recovery code or texted code given as the proof.
            refusal = reauthentication_refusal(
                user=user, password=password, code=current_code, code_field="current_code", now=now
            )
            refused_field = "current_code"
        if refusal is None:
            before = _methods_enabled(two_factor)
            two_factor.totp_secret, two_factor.totp_pending_secret = two_factor.totp_pending_secret, ""
            two_factor.totp_enabled_at, two_factor.totp_last_step = now, step
            two_factor.save(
                update_fields=["totp_secret", "totp_pending_secret", "totp_enabled_at", "totp_last_step"]
            )
            codes = _enabled(user, before, two_factor, TwoFactorMethod.TOTP, request)
            if codes is not None:
                result["recovery_codes"] = codes
            if challenge is not None:
                _used(two_factor, TwoFactorMethod.TOTP, now)
                if issue_tokens:
                    result.update(_sign_in_complete(user, TwoFactorMethod.TOTP, request))
            result["status"] = two_factor_status(user)
    if refusal is not None:
        raise ValidationError({refused_field: [refusal]})
    return result


@transaction.atomic
def two_factor_sms_code_send(*, user: User, request=None) -> None:
    """Text a code to the user's verified number: for `sms_enable`, and, while SMS codes are on, as
    the proof `reauthentication_refusal` asks for (turning 2FA off, adding the app, a new number)."""
    user = _locked_user(user)
    if not user.is_phone_verified:
        raise ValidationError({"non_field_errors": [_("Verify a phone number first, at users/me/phone/.")]})
    sms_code_issue(user=user, purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE)


def sms_enable(*, user: User, code: str, password: str = "", current_code: str = "", request=None) -> dict:
    """Turn on SMS codes with a code texted by `two_factor_sms_code_send` to the verified number,
    the password and, while the app is on, a current code of it or a recovery code
    (`reauthentication_refusal`)."""
    refusal, refused_field = None, "code"
    result: dict = {}
    with transaction.atomic():
        user = _locked_user(user)
        if not user.is_phone_verified:
            raise ValidationError(
                {"non_field_errors": [_("Verify a phone number first, at users/me/phone/.")]}
            )
        two_factor = _locked_two_factor(user, create=True)
        if two_factor.sms_enabled_at is not None:
            raise Conflict(_("Text message codes are already on."))
        now = timezone.now()
        sms_code = sms_code_locked(user=user, purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE)
        refusal = sms_code_refusal(sms_code, now)
        if refusal is None and str(sms_code.phone) != str(user.phone):
            refusal = _("Your phone number changed since this code was sent; ask for a new one.")
        if refusal is None and not sms_code_try(sms_code, code, now):
            refusal = sms_code_wrong(sms_code)
        if refusal is None:
            # After the texted code, so that a wrong one does not use up a recovery code.
            refusal = reauthentication_refusal(
                user=user, password=password, code=current_code, code_field="current_code", now=now
            )
            if refusal is not None:
                refused_field = "current_code"
                sms_code.used_at = None  # right, and kept for the next try with a right proof
                sms_code.save(update_fields=["used_at"])
        if refusal is None:
            before = _methods_enabled(two_factor)
            two_factor.sms_enabled_at = now
            two_factor.save(update_fields=["sms_enabled_at"])
            codes = _enabled(user, before, two_factor, TwoFactorMethod.SMS, request)
            if codes is not None:
                result["recovery_codes"] = codes
            result["status"] = two_factor_status(user)
    if refusal is not None:
        raise ValidationError({refused_field: [refusal]})
    return result


def recovery_codes_generate(*, user: User, password: str, code: str = "", request=None) -> list[str]:
    """Ten new recovery codes, shown once; every earlier one stops working. Needs the password and a
    current code (`reauthentication_refusal`): the codes pass the second step without the phone,
    so whoever collects them keeps the account. The account is emailed."""
    refusal = None
    with transaction.atomic():
        user = _locked_user(user)
        refusal = reauthentication_refusal(
            user=user, password=password, code=code, code_field="code", now=timezone.now()
        )
        two_factor = _locked_two_factor(user)
        if two_factor is None or not two_factor.is_enabled:
            raise Conflict(_("Turn on two-factor sign-in first."))
        if refusal is None:
            codes = _recovery_codes_replace(user)
            audit(action="user.recovery_codes_generate", actor=user, target=user, request=request)
            notify(user=user, key="recovery_codes_generated")
    if refusal is not None:
        raise ValidationError({"code": [refusal]})
    return codes


# --- Turning it off -------------------------------------------------------------------------------------
def _two_factor_remove(user: User) -> list[str]:
    two_factor = _locked_two_factor(user)
    before = _methods_enabled(two_factor)
    TwoFactor.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    SMSCode.objects.filter(
        user=user, purpose__in=[SMSCode.Purpose.SIGN_IN, SMSCode.Purpose.TWO_FACTOR_CHANGE]
    ).delete()
    MFAChallenge.objects.filter(user=user, used_at__isnull=True).delete()
    return before


def two_factor_disable(*, user: User, password: str, code: str, request=None) -> None:
    """Turn 2FA off: every method and recovery code goes. Needs the password and a current code (the
    app's, one texted by `two_factor_sms_code_send`, or a recovery code)."""
    refusal = None
    with transaction.atomic():
        user = _locked_user(user)
        _check_password(user, password)
        two_factor = _locked_two_factor(user)
        if two_factor is None or not two_factor.is_enabled:
            raise Conflict(_("Two-factor sign-in is not on."))
        now = timezone.now()
        method, _tried, sms_refusal = _second_factor_match(
            user, two_factor, code, sms_purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE, now=now
        )
        if method is None:
            refusal = sms_refusal or _("This code is wrong.")
        else:
            before = _two_factor_remove(user)
            audit(
                action="user.two_factor_disable",
                actor=user,
                target=user,
                changes={"methods": [before, []]},
                request=request,
            )
            notify(user=user, key="two_factor_disabled", context={"by_staff": False})
    if refusal is not None:
        raise ValidationError({"code": [refusal]})


@transaction.atomic
def two_factor_reset(*, user: User, actor: User, request=None) -> bool:
    """A superuser turns off the 2FA of someone locked out (phone lost, no recovery code left);
    False when it was not on."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can reset someone's two-factor sign-in."))
    user = _locked_user(user)
    two_factor = _locked_two_factor(user)
    if two_factor is None:
        return False
    before = _two_factor_remove(user)
    audit(
        action="user.two_factor_reset",
        actor=actor,
        target=user,
        changes={"methods": [before, []]},
        request=request,
    )
    if before:
        notify(user=user, key="two_factor_disabled", context={"by_staff": True})
    return bool(before)


# --- Signing in -----------------------------------------------------------------------------------------
def mfa_challenge_start(*, user: User, purpose: str, request=None) -> str:
    """A new mfa_token for `user`; only its hash is kept."""
    token = mfa_token_make()
    now = timezone.now()
    MFAChallenge.objects.create(
        user=user,
        purpose=purpose,
        token_hash=mfa_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MFA_TOKEN_SECONDS),
        ip=client_ip(request),
    )
    return token


def mfa_challenge_of(mfa_token: str, *, purpose: str) -> MFAChallenge | None:
    """The live challenge of `mfa_token` with its user, unlocked; None for any other token."""
    if not isinstance(mfa_token, str) or not mfa_token:
        return None
    challenge = (
        MFAChallenge.objects.select_related("user")
        .filter(token_hash=mfa_token_hash(mfa_token), purpose=purpose)
        .first()
    )
    if challenge is None or not challenge.is_live() or not challenge.user.is_active:
        return None
    return challenge


def sign_in_second_step(user: User, request=None) -> dict | None:
    """After a right password: None when the sign-in may finish now; otherwise the answer that asks
    for a second factor. Raises MFAEnrolmentRequired (after its token is stored) for staff who
    must turn 2FA on first."""
    two_factor = two_factor_of(user)
    if two_factor is not None and two_factor.is_enabled:
        token = mfa_challenge_start(user=user, purpose=MFAChallenge.Purpose.SIGN_IN, request=request)
        return {"mfa_required": True, "mfa_token": token, "methods": two_factor_methods(user, two_factor)}
    if two_factor_required(user):
        token = mfa_challenge_start(user=user, purpose=MFAChallenge.Purpose.ENROL, request=request)
        return {"mfa_enrolment_required": True, "mfa_token": token}
    return None


def _failures_of(user: User, now) -> tuple[int, object]:
    since = now - timedelta(minutes=settings.MFA_FAILURE_WINDOW_MINUTES)
    recent = MFAChallenge.objects.filter(user=user, created_at__gte=since, failures__gt=0)
    failures = recent.aggregate(total=Sum("failures"))["total"] or 0
    oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
    return failures, oldest


@transaction.atomic
def mfa_sms_send(*, mfa_token: str, request=None) -> None:
    """Text a sign-in code for this mfa_token to the account's verified number."""
    found = mfa_challenge_of(mfa_token, purpose=MFAChallenge.Purpose.SIGN_IN)
    if found is None:
        raise MFATokenInvalid()
    user = _locked_user(found.user)
    challenge = MFAChallenge.objects.select_for_update().get(pk=found.pk)
    if not challenge.is_live():
        raise MFATokenInvalid()
    two_factor = two_factor_of(user)
    if TwoFactorMethod.SMS.value not in two_factor_methods(user, two_factor):
        raise ValidationError({"mfa_token": [_("Text message codes are not on for this account.")]})
    if challenge.sms_sent >= settings.MFA_SMS_MAX_SENDS:
        wait = (challenge.expires_at - timezone.now()).total_seconds()
        raise Throttled(
            wait=max(wait, 1), detail=str(_("No more codes for this sign-in; sign in again later."))
        )
    challenge.sms_sent += 1
    challenge.save(update_fields=["sms_sent"])
    sms_code_issue(user=user, purpose=SMSCode.Purpose.SIGN_IN, challenge=challenge)


def mfa_verify(
    *, mfa_token: str, code: str, request=None, issue_tokens: bool = False
) -> tuple[User, str, dict]:
    """Finish the second step of a sign-in: (user, method) for a right code, which uses the
    mfa_token up. Every try counts on the token and, through it, on the account, and is a
    LoginEvent; a wrong code is a 400 on `code`, a dead token a 401 (`mfa_token_invalid`), too many
    wrong codes for the account lately a 429.

    With `issue_tokens`, the same transaction starts the session and returns its first token pair;
    the admin site signs the user in its own way.
    """
    found = mfa_challenge_of(mfa_token, purpose=MFAChallenge.Purpose.SIGN_IN)
    if found is None:
        raise MFATokenInvalid()
    refusal, tokens = None, {}
    with transaction.atomic():
        user = _locked_user(found.user)
        challenge = MFAChallenge.objects.select_for_update().get(pk=found.pk)
        now = timezone.now()  # after the locks: a try that waited for them must not gain time
        if not challenge.is_live(now) or not user.is_active:
            raise MFATokenInvalid()
        failures, oldest = _failures_of(user, now)
        if failures >= settings.MFA_MAX_FAILURES_PER_USER:
            wait = (oldest + timedelta(minutes=settings.MFA_FAILURE_WINDOW_MINUTES) - now).total_seconds()
            raise Throttled(
                wait=max(wait, 1), detail=str(_("Too many wrong codes for this account; try again later."))
            )
        two_factor = _locked_two_factor(user)
        if two_factor is None or not two_factor.is_enabled:
            raise MFATokenInvalid()  # turned off (or reset) since the password step
        method, tried_as, why = _second_factor_match(
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
            _used(two_factor, method, now)
        challenge.save(update_fields=["attempts", "failures", "used_at"])
        login_record(
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
            tokens = _sign_in_complete(user, method, request)
    if refusal is not None:
        raise ValidationError({"code": [refusal]})
    return user, method, tokens


def _sign_in_complete(user: User, method: str, request) -> dict[str, str]:
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    audit(
        action="user.login",
        actor=user,
        target=user,
        changes={"second_factor": [None, method]},
        request=request,
    )
    return session_start(user=user, request=request)
