"""Phone numbers: asking to verify one, the code's send-time half, and checking the code.

A number becomes the account's (`User.phone` with `phone_verified_at`, which makes SMS go to it)
only here, when the user types back the code sent to it:

1. `phone_verification_request` asks for the password (and a current second-factor code while
   two-factor sign-in is on), then replaces any earlier verification of the user with a new
   `PhoneVerification` for the number and queues the `phone_verification` SMS to that pending
   number (apps/accounts/notifications.py). The account's current number, verified or not, stays
   until the code comes back. The caller must have verified their email address; the number must be
   in SMS_ALLOWED_COUNTRIES and within its text budgets (apps/notifications/sms_budget.py). A number
   another account has verified is answered like any other, so the answer tells no one which
   numbers have accounts, but step 2 sends it nothing.
2. The delivery task calls `phone_verification_code_make` as it sends: the code is made then and
   only its HMAC is stored, so the clear code never waits in the queue or a table (the stored copy
   of the message masks it). A retry makes a fresh code, which replaces the last; so does staff's
   "resend".
3. `phone_verify` counts the try and, on the right code, sets the number and its verification time,
   and tells the owner (`phone_change_notice`: by email, and by SMS to the number it replaces).
   A number verified less than PHONE_RESET_COOLING_OFF_HOURS ago cannot reset the password yet
   (accounts.py), so a stolen access token cannot turn a number of its own into a new password.

Locks are always taken user row first, then verification row, so a request and a check of one user
cannot deadlock, and two checks of one code are serialised: exactly one of them succeeds. A refused
check must still count as a try, so its transaction commits and the 400 is raised after it, as
sessions.py does for a reused refresh token.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber, to_python
from rest_framework.exceptions import PermissionDenied

from apps.accounts.models import PhoneVerification, User
from apps.accounts.services.sms_codes import wrong_code_message
from apps.accounts.services.two_factor import reauthentication_refusal
from apps.accounts.tokens import phone_code_hash, phone_code_make, phone_code_matches
from apps.core.exceptions import Conflict
from apps.logs.services import audit
from apps.notifications.services import notify
from apps.notifications.sms_budget import SMSBudgetSpent, sms_budget_take, sms_country_allowed

# When the right code comes back for a number another account verified meanwhile; it does not say
# whose account has it.
VERIFIED_ELSEWHERE = _("This phone number is already verified by another account.")


def phone_e164(value) -> str:
    """`value` (text or a PhoneNumber) in E.164; a field error on `phone` unless it is a valid number.

    Text without a country code is read as a number of PHONE_DEFAULT_REGION.
    """
    number = to_python(value, region=settings.PHONENUMBER_DEFAULT_REGION)
    if not isinstance(number, PhoneNumber) or not number.is_valid():
        raise ValidationError({"phone": [_("Enter a valid phone number.")]})
    return number.as_e164


def _code_lifetime() -> timedelta:
    return timedelta(minutes=settings.PHONE_VERIFICATION_CODE_MINUTES)


def _locked(user: User) -> User:
    return User.objects.select_for_update().filter(pk=user.pk).get()


def _verified_elsewhere(phone: str, user: User) -> bool:
    return User.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(pk=user.pk).exists()


# --- Asking for a code ----------------------------------------------------------------------------------
class EmailNotVerified(PermissionDenied):
    default_detail = _("Verify your email address before you add a phone number.")
    default_code = "email_not_verified"


def _may_text(user: User, phone) -> str:
    """`phone` in E.164 if the user may have a code texted to it: a 403 `email_not_verified` until
    the account's email address is verified (a fresh account costs an attacker nothing, a verified
    address a little), a 400 on `phone` for an invalid number or one outside SMS_ALLOWED_COUNTRIES."""
    if not user.is_email_verified:
        raise EmailNotVerified()
    phone = phone_e164(phone)
    if not sms_country_allowed(phone):
        raise ValidationError({"phone": [_("Text messages cannot be sent to numbers of this country.")]})
    return phone


def phone_verification_request(
    *, user: User, phone, password: str = "", code: str = "", request=None
) -> PhoneVerification:
    """Start verifying `phone` for `user`: an earlier verification ends, a code goes out by SMS.

    Needs the password and, while two-factor sign-in is on, a current code of a factor
    (`reauthentication_refusal`): the number receives sign-in codes and resets the password, so an
    access token alone must not be able to put one of its own there. A wrong password is a 400 on
    `password`, a refused code a 400 on `code` (its try counted; a request refused later in the same
    transaction does not use the code up). The user's own verified number is a 400; see `_may_text`
    for the other refusals. A number another account has verified is answered like any other, so
    the answer does not tell which numbers have accounts; its text is not sent
    (`phone_verification_code_make`).
    """
    phone = _may_text(user, phone)
    refusal = None
    with transaction.atomic():
        user = _locked(user)  # one request or check of this user at a time
        refusal = reauthentication_refusal(
            user=user, password=password, code=code, code_field="code", now=timezone.now()
        )
        if refusal is None:
            verification = _verification_start(user, phone, request=request)
    if refusal is not None:
        raise ValidationError({"code": [refusal]})
    return verification


def _verification_start(user: User, phone: str, *, request) -> PhoneVerification:
    current = str(user.phone)
    if user.is_phone_verified and current == phone:
        raise ValidationError({"phone": [_("This is already your verified phone number.")]})
    sms_budget_take(phone)
    # A new row rather than an update: an SMS still queued for the old one finds it gone and is
    # not sent, and no code of the old one can pass for the new number.
    PhoneVerification.objects.filter(user=user).delete()
    verification = PhoneVerification.objects.create(
        user=user, phone=phone, expires_at=timezone.now() + _code_lifetime()
    )
    audit(
        action="user.phone_verification_request",
        actor=user,
        target=user,
        changes={"phone": [current or None, phone]},
        request=request,
    )
    notify(
        user=user,
        key="phone_verification",
        channels=["sms"],
        context={"verification_id": verification.pk, "phone": phone},
    )
    return verification


@transaction.atomic
def phone_verification_code_make(*, verification_id: int) -> str | None:
    """The delivery task's half: a fresh code for the verification, valid from now; its hash is
    stored, the code returned for the SMS and forgotten.

    None when the SMS has lost its point: the verification was replaced (it is gone), used, has
    expired or has no tries left.
    """
    verification = PhoneVerification.objects.select_for_update().filter(pk=verification_id).first()
    now = timezone.now()
    if verification is None or not verification.is_live(now):
        return None
    if _verified_elsewhere(str(verification.phone), verification.user):
        return None  # not the asker's number: its owner gets no code, the asker no way forward
    code = phone_code_make()
    verification.code_hash = phone_code_hash(verification, code)
    # The code is good for its full lifetime from when it is sent, not from when it was asked for:
    # a retry after a provider outage still gives the user the time the message promises.
    verification.code_sent_at, verification.expires_at = now, now + _code_lifetime()
    verification.save(update_fields=["code_hash", "code_sent_at", "expires_at"])
    return code


# --- Checking the code ----------------------------------------------------------------------------------
def _refusal(verification: PhoneVerification | None, now) -> str | None:
    """Why no code can be right for this verification now; None when one can."""
    if verification is None:
        return _("No code was sent to you; ask for one first.")
    if verification.used_at is not None:
        return _("This code was already used; ask for a new one.")
    if verification.attempts >= settings.PHONE_VERIFICATION_MAX_ATTEMPTS:
        return _("Too many wrong codes; ask for a new one.")
    if now >= verification.expires_at:
        return _("This code has expired; ask for a new one.")
    return None


def _wrong_code(verification: PhoneVerification) -> str:
    return wrong_code_message(settings.PHONE_VERIFICATION_MAX_ATTEMPTS - verification.attempts)


def phone_verify(*, user: User, code: str, request=None) -> User:
    """Check `code` against the user's verification; the right one makes its number the
    account's, verified, and works once.

    Every check of a live verification counts as a try, right or wrong, and stays counted although
    the answer is an error: a 400 on `code` (wrong, expired, used, out of tries, none asked for) or
    a 409 when another account verified the number meanwhile.
    """
    refusal = taken = None
    with transaction.atomic():
        user = _locked(user)
        verification = PhoneVerification.objects.select_for_update().filter(user=user).first()
        now = timezone.now()  # after the locks: a check that waited for them must not gain time
        refusal = _refusal(verification, now)
        if refusal is None:
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
            if not phone_code_matches(verification, code):
                refusal = _wrong_code(verification)
            elif _verified_elsewhere(str(verification.phone), user):
                taken = True
            else:
                taken = not _phone_set(user, verification, now, request=request)
    if refusal is not None:
        raise ValidationError({"code": [refusal]})
    if taken:
        raise Conflict(VERIFIED_ELSEWHERE)
    return user


def _phone_set(user: User, verification: PhoneVerification, now, *, request) -> bool:
    """Make the verified number the user's; False when another account got it first."""
    before, before_verified = str(user.phone), user.is_phone_verified
    user.phone, user.phone_verified_at = verification.phone, now
    try:
        with transaction.atomic():  # a savepoint: the try stays counted when this fails
            user.save(update_fields=["phone", "phone_verified_at"])
    except IntegrityError:
        return False  # the partial unique constraint: verified elsewhere since the check above
    verification.used_at = now
    verification.save(update_fields=["used_at"])
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
