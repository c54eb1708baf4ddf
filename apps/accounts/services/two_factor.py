"""Two-factor sign-in's factors: turning them on (an authenticator app, SMS codes), recovery codes,
checking a code, proving it is the owner, turning it off, and staff's reset. Signing in with them
is signin.py's.

A user has two-factor sign-in on while the authenticator app (TOTP) or SMS codes are enabled; a
sign-in with the right password then asks for a code of either method or a recovery code, which
`second_factor_match` checks. With REQUIRE_2FA_FOR_STAFF, a staff member without it must enrol
first (signin.py's `enrolment_confirm`, after `totp_setup`).

A signed-in user adds a factor, turns two-factor sign-in off or changes the phone number (phone.py)
only with the password and, while it is on, a current code of a factor that is on
(`reauthentication_refusal`): an access token alone must not be enough to keep the account. An
enrolment challenge has proven the password already.

Locks are always taken in one order: user row, two-factor challenge, two-factor row, SMS code,
recovery code. Every check of a code counts as a try and stays counted although the answer is an
error, so those functions commit first and raise after, as phone.py does.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts import otp
from apps.accounts.models import RecoveryCode, SMSCode, TwoFactor, TwoFactorChallenge, TwoFactorMethod, User
from apps.accounts.services.sms_codes import (
    sms_code_issue,
    sms_code_locked,
    sms_code_refusal,
    sms_code_try,
    sms_code_wrong,
    sms_codes_discard,
)
from apps.accounts.tokens import (
    RECOVERY_CODE_ALPHABET,
    RECOVERY_CODE_LENGTH,
    recovery_code_hashes,
    recovery_code_make,
    recovery_code_normalize,
)
from apps.core import errors
from apps.core.encryption import decrypt, encrypt
from apps.logs.services import audit
from apps.notifications.services import notify

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

RECOVERY_CODE_COUNT = 10
TOTP_CODE_USED = _("This code was already used; wait for the app's next one.")
METHOD_NAMES = {
    TwoFactorMethod.TOTP: "authenticator app",
    TwoFactorMethod.SMS: "text message codes",
    TwoFactorMethod.RECOVERY: "recovery codes",
}
PHONE_FIRST = _("Verify a phone number first, at users/me/phone/.")


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


def two_factor_status(user: User) -> dict[str, Any]:
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
def _locked_user(user_or_id: User | int) -> User:
    return User.objects.select_for_update().get(pk=getattr(user_or_id, "pk", user_or_id))


def two_factor_locked(user: User, *, create: bool = False) -> TwoFactor | None:
    """The user's row, locked (made first with `create`); in the caller's transaction."""
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
        raise errors.InvalidInput({"password": [_("Your password is wrong.")]})


def _recovery_codes_replace(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = recovery_code_make()
        if code not in codes:
            codes.append(code)
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=recovery_code_hashes(user.pk, code)[0]) for code in codes
    )
    return codes


def _enabled(
    user: User,
    before: list[str],
    two_factor: TwoFactor,
    method: TwoFactorMethod,
    request: HttpRequest | Request | None,
) -> list[str] | None:
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


def second_factor_match(
    user: User,
    two_factor: TwoFactor,
    code: str,
    *,
    sms_purpose: str,
    challenge: TwoFactorChallenge | None = None,
    now: datetime,
) -> "tuple[TwoFactorMethod | None, TwoFactorMethod, StrOrPromise | None]":
    """Which method `code` is right for: (method or None, the method it was tried as, why no SMS
    code could be right). A right code is used up: a TOTP step, an SMS code, a recovery code.
    Runs in the caller's transaction, which holds the user's lock and `two_factor`'s."""
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
    user: User,
    two_factor: TwoFactor,
    code: str,
    *,
    sms_purpose: str,
    challenge: TwoFactorChallenge | None,
    now: datetime,
) -> "tuple[TwoFactorMethod | None, TwoFactorMethod, StrOrPromise | None]":
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
        # The code may have been meant for the app, and a sign-in counts tries on its challenge:
        # the SMS code's own state is no answer to give.
        return None, TwoFactorMethod.SMS, None
    return None, TwoFactorMethod.SMS, refusal or sms_code_wrong(sms_code)


def two_factor_use_record(*, two_factor: TwoFactor, method: str, now: datetime) -> None:
    """A sign-in was finished with `method` (the status shows the last one)."""
    two_factor.last_used_at, two_factor.last_used_method = now, method
    two_factor.save(update_fields=["last_used_at", "last_used_method"])


# --- Proving it is the owner ----------------------------------------------------------------------------
CODE_NEEDED = _(
    "Two-factor sign-in is on: also give a current code (the authenticator app's, one texted by "
    "auth/2fa/sms/code/, or a recovery code)."
)


def reauthentication_refusal(
    *, user: User, password: str, code: str, code_field: str, now: datetime
) -> "StrOrPromise | None":
    """The proof asked before a change that would let the holder of a stolen access token keep the
    account (a second factor, the number sign-in and reset codes go to): the password and, while
    two-factor sign-in is on, a current code of a factor that is on, which it uses up.

    A missing or wrong password, or a missing code, raises at once (nothing was counted). A refused
    code is returned instead: an SMS code's try must stay counted, so the caller commits and then
    raises it on `code_field`. Runs in the caller's transaction, which holds the user's lock.
    """
    if not password:
        raise errors.InvalidInput({"password": [_("Confirm with your password.")]})
    _check_password(user, password)
    two_factor = two_factor_locked(user)
    if two_factor is None or not two_factor.is_enabled:
        return None
    if not code:
        raise errors.InvalidInput({code_field: [CODE_NEEDED]})
    method, _tried, why = second_factor_match(
        user, two_factor, code, sms_purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE, now=now
    )
    if method is None:
        return why or _("This code is wrong.")
    return None


# --- Turning it on --------------------------------------------------------------------------------------
@transaction.atomic
def totp_setup(*, user: User, request: HttpRequest | Request | None = None) -> dict[str, str]:
    """A new secret for an authenticator app, pending until `totp_confirm`; asking again replaces
    a pending one. A 409 while the app is already on: turn two-factor sign-in off first."""
    user = _locked_user(user)
    two_factor = two_factor_locked(user, create=True)
    assert two_factor is not None  # made if missing, under the user's lock
    if two_factor.totp_enabled_at is not None:
        raise errors.Conflict(_("An authenticator app is already on; turn two-factor sign-in off first."))
    secret = otp.secret_make()
    two_factor.totp_pending_secret = encrypt(secret)
    two_factor.save(update_fields=["totp_pending_secret"])
    audit(action="user.two_factor_totp_setup", actor=user, target=user, request=request)
    uri = otp.provisioning_uri(secret, user.email)
    return {"secret": secret, "provisioning_uri": uri, "qr_code": otp.qr_code_data_uri(uri)}


def totp_pending_step(*, user: User, code: str, now: datetime) -> tuple[TwoFactor, int | None]:
    """The user's two-factor row, locked, and the time step of the pending secret that `code` is
    right for (None: wrong). Without a pending secret, a 400 on `code`. Runs in the caller's
    transaction, which holds the user's lock."""
    two_factor = two_factor_locked(user)
    if two_factor is None or not two_factor.totp_pending_secret:
        raise errors.InvalidInput(
            {"code": [_("Set up an authenticator app first: POST auth/2fa/totp/setup/.")]}
        )
    step = otp.matching_step(
        decrypt(two_factor.totp_pending_secret), code, after_step=None, now=now.timestamp()
    )
    return two_factor, step


def totp_turn_on(
    *,
    user: User,
    two_factor: TwoFactor,
    step: int,
    now: datetime,
    request: HttpRequest | Request | None = None,
) -> list[str] | None:
    """The pending secret becomes the app's, its code of `step` used up; audited and announced.
    Returns the recovery codes the first method brings, to be shown once (None: the user has some)."""
    before = _methods_enabled(two_factor)
    two_factor.totp_secret, two_factor.totp_pending_secret = two_factor.totp_pending_secret, ""
    two_factor.totp_enabled_at, two_factor.totp_last_step = now, step
    two_factor.save(update_fields=["totp_secret", "totp_pending_secret", "totp_enabled_at", "totp_last_step"])
    return _enabled(user, before, two_factor, TwoFactorMethod.TOTP, request)


def totp_confirm(
    *,
    user: User,
    code: str,
    password: str = "",
    current_code: str = "",
    request: HttpRequest | Request | None = None,
) -> dict[str, Any]:
    """Turn the authenticator app on, signed in, with a first code of the pending secret.

    It also takes the password and, while another factor is on, a current code of it
    (`reauthentication_refusal`): an access token alone must not add a factor, nor hand out the
    recovery codes. (A staff member enrolling at sign-in, whose challenge proved the password a
    moment ago, confirms at signin.py's `enrolment_confirm` instead.)

    Returns the status, and the recovery codes when these are the user's first.
    """
    refusal: StrOrPromise | None = None
    refused_field = "code"
    result: dict[str, Any] = {}
    with transaction.atomic():
        user = _locked_user(user)
        now = timezone.now()
        two_factor, step = totp_pending_step(user=user, code=code, now=now)
        if step is None:
            refusal = _("This code is wrong; check the app's clock and try the newest code.")
        else:
            # After the app's code, which costs nothing: a refused app code must not use up the
            # recovery code or texted code given as the proof.
            refusal = reauthentication_refusal(
                user=user, password=password, code=current_code, code_field="current_code", now=now
            )
            refused_field = "current_code"
            if refusal is None:
                codes = totp_turn_on(user=user, two_factor=two_factor, step=step, now=now, request=request)
                if codes is not None:
                    result["recovery_codes"] = codes
                result["status"] = two_factor_status(user)
    if refusal is not None:
        raise errors.InvalidInput({refused_field: [refusal]})
    return result


@transaction.atomic
def two_factor_sms_code_send(*, user: User, request: HttpRequest | Request | None = None) -> None:
    """Text a code to the user's verified number: for `sms_enable`, and, while SMS codes are on, as
    the proof `reauthentication_refusal` asks for (turning two-factor sign-in off, adding the app,
    a new number)."""
    user = _locked_user(user)
    if not user.is_phone_verified:
        raise errors.InvalidInput(PHONE_FIRST)
    sms_code_issue(user=user, purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE)


def sms_enable(
    *,
    user: User,
    code: str,
    password: str = "",
    current_code: str = "",
    request: HttpRequest | Request | None = None,
) -> dict[str, Any]:
    """Turn on SMS codes with a code texted by `two_factor_sms_code_send` to the verified number,
    the password and, while the app is on, a current code of it or a recovery code
    (`reauthentication_refusal`)."""
    refused_field = "code"
    result: dict[str, Any] = {}
    with transaction.atomic():
        user = _locked_user(user)
        if not user.is_phone_verified:
            raise errors.InvalidInput(PHONE_FIRST)
        two_factor = two_factor_locked(user, create=True)
        assert two_factor is not None  # made if missing, under the user's lock
        if two_factor.sms_enabled_at is not None:
            raise errors.Conflict(_("Text message codes are already on."))
        now = timezone.now()
        sms_code = sms_code_locked(user=user, purpose=SMSCode.Purpose.TWO_FACTOR_CHANGE)
        refusal = sms_code_refusal(sms_code, now)
        if refusal is None:
            assert sms_code is not None  # sms_code_refusal refuses a missing row
            if str(sms_code.phone) != str(user.phone):
                refusal = _("Your phone number changed since this code was sent; ask for a new one.")
            elif not sms_code_try(sms_code, code, now):
                refusal = sms_code_wrong(sms_code)
            else:
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
        raise errors.InvalidInput({refused_field: [refusal]})
    return result


def recovery_codes_generate(
    *, user: User, password: str, code: str = "", request: HttpRequest | Request | None = None
) -> list[str]:
    """Ten new recovery codes, shown once; every earlier one stops working. Needs the password and a
    current code (`reauthentication_refusal`): the codes pass the second step without the phone,
    so whoever collects them keeps the account. The account is emailed."""
    refusal = None
    with transaction.atomic():
        user = _locked_user(user)
        refusal = reauthentication_refusal(
            user=user, password=password, code=code, code_field="code", now=timezone.now()
        )
        two_factor = two_factor_locked(user)
        if two_factor is None or not two_factor.is_enabled:
            raise errors.Conflict(_("Turn on two-factor sign-in first."))
        if refusal is None:
            codes = _recovery_codes_replace(user)
            audit(action="user.recovery_codes_generate", actor=user, target=user, request=request)
            notify(user=user, key="recovery_codes_generated")
    if refusal is not None:
        raise errors.InvalidInput({"code": [refusal]})
    return codes


# --- Turning it off -------------------------------------------------------------------------------------
def _two_factor_remove(user: User) -> list[str]:
    two_factor = two_factor_locked(user)
    before = _methods_enabled(two_factor)
    TwoFactor.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    sms_codes_discard(user=user, purposes=[SMSCode.Purpose.SIGN_IN, SMSCode.Purpose.TWO_FACTOR_CHANGE])
    TwoFactorChallenge.objects.filter(user=user, used_at__isnull=True).delete()
    return before


def two_factor_disable(
    *, user: User, password: str, code: str, request: HttpRequest | Request | None = None
) -> None:
    """Turn two-factor sign-in off: every method and recovery code goes. Needs the password and a
    current code (the app's, one texted by `two_factor_sms_code_send`, or a recovery code)."""
    refusal = None
    with transaction.atomic():
        user = _locked_user(user)
        _check_password(user, password)
        two_factor = two_factor_locked(user)
        if two_factor is None or not two_factor.is_enabled:
            raise errors.Conflict(_("Two-factor sign-in is not on."))
        now = timezone.now()
        method, _tried, sms_refusal = second_factor_match(
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
        raise errors.InvalidInput({"code": [refusal]})


@transaction.atomic
def two_factor_reset(*, user: User, actor: User, request: HttpRequest | Request | None = None) -> bool:
    """A superuser turns off the two-factor sign-in of someone locked out (phone lost, no recovery
    code left); False when it was not on."""
    if not actor.is_superuser:
        raise errors.PermissionDenied(_("Only a superuser can reset someone's two-factor sign-in."))
    user = _locked_user(user)
    two_factor = two_factor_locked(user)
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
