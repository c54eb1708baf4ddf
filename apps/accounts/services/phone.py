"""Phone numbers: asking to verify one and checking the code.

A number becomes the account's (`User.phone` with `phone_verified_at`, which makes SMS go to it)
only here, when the user types back the code sent to it. The code is an `SMSCode` of purpose
`phone_verification`, issued, sent and checked by sms_codes.py like every texted code:

1. `phone_verification_request` asks for the password (and a current second-factor code while
   two-factor sign-in is on), then issues a code for the number, which replaces any earlier one
   of the user and queues the `phone_verification` SMS to that pending number. The account's
   current number, verified or not, stays until the code comes back. The caller must have verified
   their email address; the number must be in SMS_ALLOWED_COUNTRIES and within its text budgets
   (apps/notifications/sms_budget.py). A number another account has verified is answered like any
   other, so the answer tells no one which numbers have accounts, but its text is not sent.
2. `phone_verify` counts the try and, on the right code, sets the number and its verification time,
   and tells the owner (`phone_change_notice`: by email, and by SMS to the number it replaces).
   A number verified less than PHONE_RESET_COOLING_OFF_HOURS ago cannot reset the password yet
   (accounts.py), so a stolen access token cannot turn a number of its own into a new password.

Locks are always taken user row first, then code row, so a request and a check of one user cannot
deadlock, and two checks of one code are serialised: exactly one of them succeeds. A refused check
must still count as a try, so its transaction commits and the 400 is raised after it, as
sessions.py does for a reused refresh token.
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber, to_python
from rest_framework.request import Request

from apps.accounts.models import SMSCode, User
from apps.accounts.services.sms_codes import (
    number_verified_elsewhere,
    sms_code_issue,
    sms_code_locked,
    sms_code_refusal,
    sms_code_try,
    sms_code_use_up,
    sms_code_wrong,
)
from apps.accounts.services.two_factor import reauthentication_refusal
from apps.core.errors import Conflict, InvalidInput, PermissionDenied
from apps.logs.services import audit
from apps.notifications.services import notify
from apps.notifications.sms_budget import SMSBudgetSpent, sms_budget_take, sms_country_allowed

# When the right code comes back for a number another account verified meanwhile; it does not say
# whose account has it.
VERIFIED_ELSEWHERE = _("This phone number is already verified by another account.")


def phone_e164(value: str | PhoneNumber) -> str:
    """`value` (text or a PhoneNumber) in E.164; a field error on `phone` unless it is a valid number.

    Text without a country code is read as a number of PHONE_DEFAULT_REGION.
    """
    number = to_python(value, region=settings.PHONENUMBER_DEFAULT_REGION)
    if not isinstance(number, PhoneNumber) or not number.is_valid():
        raise InvalidInput({"phone": [_("Enter a valid phone number.")]})
    e164: str = number.as_e164
    return e164


def _locked(user: User) -> User:
    return User.objects.select_for_update().filter(pk=user.pk).get()


# --- Asking for a code ----------------------------------------------------------------------------------
class EmailNotVerified(PermissionDenied):
    default_message = _("Verify your email address before you add a phone number.")
    default_code = "email_not_verified"


def _may_text(user: User, phone: str | PhoneNumber) -> str:
    """`phone` in E.164 if the user may have a code texted to it: a 403 `email_not_verified` until
    the account's email address is verified (a fresh account costs an attacker nothing, a verified
    address a little), a 400 on `phone` for an invalid number or one outside SMS_ALLOWED_COUNTRIES."""
    if not user.is_email_verified:
        raise EmailNotVerified()
    phone = phone_e164(phone)
    if not sms_country_allowed(phone):
        raise InvalidInput({"phone": [_("Text messages cannot be sent to numbers of this country.")]})
    return phone


def phone_verification_request(
    *,
    user: User,
    phone: str | PhoneNumber,
    password: str = "",
    code: str = "",
    request: HttpRequest | Request | None = None,
) -> SMSCode:
    """Start verifying `phone` for `user`: an earlier code for a number ends, a new one goes out by SMS.

    Needs the password and, while two-factor sign-in is on, a current code of a factor
    (`reauthentication_refusal`): the number receives sign-in codes and resets the password, so an
    access token alone must not be able to put one of its own there. A wrong password is a 400 on
    `password`, a refused code a 400 on `code` (its try counted; a request refused later in the same
    transaction does not use the code up). The user's own verified number is a 400; see `_may_text`
    for the other refusals. A number another account has verified is answered like any other, so
    the answer does not tell which numbers have accounts; its text is not sent
    (`sms_codes.sms_code_make`).
    """
    phone = _may_text(user, phone)
    refusal = None
    with transaction.atomic():
        user = _locked(user)  # one request or check of this user at a time
        refusal = reauthentication_refusal(
            user=user, password=password, code=code, code_field="code", now=timezone.now()
        )
        if refusal is None:
            sms_code = _verification_start(user, phone, request=request)
    if refusal is not None:
        raise InvalidInput({"code": [refusal]})
    return sms_code


def _verification_start(user: User, phone: str, *, request: HttpRequest | Request | None) -> SMSCode:
    current = str(user.phone)
    if user.is_phone_verified and current == phone:
        raise InvalidInput({"phone": [_("This is already your verified phone number.")]})
    sms_code = sms_code_issue(user=user, purpose=SMSCode.Purpose.PHONE_VERIFICATION, phone=phone)
    audit(
        action="user.phone_verification_request",
        actor=user,
        target=user,
        changes={"phone": [current or None, phone]},
        request=request,
    )
    return sms_code


# --- Checking the code ----------------------------------------------------------------------------------
def phone_verify(*, user: User, code: str, request: HttpRequest | Request | None = None) -> User:
    """Check `code` against the user's phone verification code; the right one makes its number the
    account's, verified, and works once.

    Every check of a live code counts as a try, right or wrong, and stays counted although the
    answer is an error: a 400 on `code` (wrong, expired, used, out of tries, none asked for) or a
    409 when another account verified the number meanwhile.
    """
    refusal = taken = None
    with transaction.atomic():
        user = _locked(user)
        sms_code = sms_code_locked(user=user, purpose=SMSCode.Purpose.PHONE_VERIFICATION)
        now = timezone.now()  # after the locks: a check that waited for them must not gain time
        refusal = sms_code_refusal(sms_code, now)
        if refusal is None:
            assert sms_code is not None  # sms_code_refusal refuses a missing row
            if not sms_code_try(sms_code, code, now, use_up=False):
                refusal = sms_code_wrong(sms_code)
            elif number_verified_elsewhere(str(sms_code.phone), user):
                taken = True
            else:
                taken = not _phone_set(user, sms_code, now, request=request)
    if refusal is not None:
        raise InvalidInput({"code": [refusal]})
    if taken:
        raise Conflict(VERIFIED_ELSEWHERE)
    return user


def _phone_set(
    user: User, sms_code: SMSCode, now: datetime, *, request: HttpRequest | Request | None
) -> bool:
    """Make the verified number the user's; False when another account got it first."""
    before, before_verified = str(user.phone), user.is_phone_verified
    user.phone, user.phone_verified_at = sms_code.phone, now
    try:
        with transaction.atomic():  # a savepoint: the try stays counted when this fails
            user.save(update_fields=["phone", "phone_verified_at"])
    except IntegrityError:
        return False  # the partial unique constraint: verified elsewhere since the check above
    sms_code_use_up(sms_code, now)
    audit(
        action="user.phone_verify",
        actor=user,
        target=user,
        changes={"phone": [before or None, str(user.phone)]},
        request=request,
    )
    phone_change_notify(user=user, old_phone=before, old_verified=before_verified)
    return True


def phone_change_notify(*, user: User, old_phone: str, old_verified: bool) -> None:
    """Tell the owner that the account's number changed (or went): whoever holds its access token
    could be the one who did it. By email, naming both numbers, and by SMS to the number that stops
    receiving the account's codes, if it was verified and its text budgets allow (a spent budget
    drops the text, never the change, nor the email)."""
    text_old = bool(old_phone) and old_verified
    if text_old:
        try:
            sms_budget_take(old_phone)
        except SMSBudgetSpent:
            text_old = False
    notify(
        user=user,
        key="phone_change_notice",
        context={"old_phone": old_phone, "text_old_phone": text_old, "new_phone": str(user.phone)},
    )
