"""Six-digit codes texted to a verified number (`SMSCode`): for the second step of a sign-in, to
confirm a two-factor change, and to reset a password.

As with phone verification (phone.py), a code does not exist until its SMS goes out: `sms_code_issue`
stores the row and queues the message, the delivery task calls `sms_code_make`, which makes the code,
keeps its HMAC and hands the code to the message (its stored copy masks it). A retry makes a fresh
code, which replaces the last. Asking again replaces the row, so an SMS still queued for the old one
finds it gone and is not sent.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts.models import SMSCode, TwoFactorChallenge, User
from apps.accounts.tokens import phone_code_make, sms_code_hash, sms_code_matches
from apps.notifications.services import notify
from apps.notifications.sms_budget import sms_budget_take

# The SMS template (and notification kind) of each purpose.
SMS_KEY = {
    SMSCode.Purpose.SIGN_IN: "2fa_code",
    SMSCode.Purpose.TWO_FACTOR_CHANGE: "2fa_code",
    SMSCode.Purpose.PASSWORD_RESET: "password_reset_code",
}


def _lifetime() -> timedelta:
    return timedelta(minutes=settings.SMS_CODE_MINUTES)


def sms_code_issue(*, user: User, purpose: str, challenge: TwoFactorChallenge | None = None) -> SMSCode:
    """Replace the user's code of `purpose` with a new one and queue its SMS to their verified
    number. Runs in the caller's transaction; the caller has checked the number is verified.

    SMSBudgetSpent (a 429) when the number's or the global text budget is spent; nothing changes.
    """
    sms_budget_take(str(user.phone))
    SMSCode.objects.filter(user=user, purpose=purpose).delete()
    sms_code = SMSCode.objects.create(
        user=user,
        purpose=purpose,
        challenge=challenge,
        phone=user.phone,
        expires_at=timezone.now() + _lifetime(),
    )
    notify(
        user=user,
        key=SMS_KEY[purpose],
        channels=["sms"],
        context={"sms_code_id": sms_code.pk, "phone": str(sms_code.phone)},
    )
    return sms_code


@transaction.atomic
def sms_code_make(*, sms_code_id: int) -> str | None:
    """The delivery task's half: a fresh code, valid from now, whose hash is kept; None when the
    message has lost its point (replaced, used, expired, out of tries, or its number is no longer
    the account's verified one)."""
    sms_code = (
        SMSCode.objects.select_for_update(of=("self",))
        .select_related("user", "challenge")
        .filter(pk=sms_code_id)
        .first()
    )
    now = timezone.now()
    if sms_code is None or sms_code.used_at is not None:
        return None
    if sms_code.code_hash and not sms_code.is_live(now):
        return None
    if sms_code.challenge is not None and not sms_code.challenge.is_live(now):
        return None
    user = sms_code.user
    if not (user.is_active and user.is_phone_verified and str(user.phone) == str(sms_code.phone)):
        return None
    code = phone_code_make()
    sms_code.code_hash = sms_code_hash(sms_code, code)
    sms_code.sent_at, sms_code.expires_at = now, now + _lifetime()
    sms_code.save(update_fields=["code_hash", "sent_at", "expires_at"])
    return code


def sms_code_locked(
    *, user: User, purpose: str, challenge: TwoFactorChallenge | None = None
) -> SMSCode | None:
    codes = SMSCode.objects.select_for_update().filter(user=user, purpose=purpose)
    if challenge is not None:
        codes = codes.filter(challenge=challenge)
    return codes.first()


def sms_code_refusal(sms_code: SMSCode | None, now) -> str | None:
    """Why no code can be right for this row now; None when one can."""
    if sms_code is None or not sms_code.code_hash:
        return _("No code was sent to you; ask for one first.")
    if sms_code.used_at is not None:
        return _("This code was already used; ask for a new one.")
    if sms_code.challenge_id is None and sms_code.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        return _("Too many wrong codes; ask for a new one.")
    if now >= sms_code.expires_at:
        return _("This code has expired; ask for a new one.")
    return None


def sms_code_try(sms_code: SMSCode, code: str, now) -> bool:
    """Count a try of a live code (its own tries; a sign-in code's count on its mfa_token) and say
    whether `code` is right; a right code is used up. The caller holds the row's lock."""
    fields = []
    if sms_code.challenge_id is None:
        sms_code.attempts += 1
        fields.append("attempts")
    right = sms_code_matches(sms_code, code)
    if right:
        sms_code.used_at = now
        fields.append("used_at")
    if fields:
        sms_code.save(update_fields=fields)
    return right


def wrong_code_message(left: int) -> str:
    """The refusal of a wrong texted code with `left` tries to go (this one counted)."""
    if left <= 0:
        return _("This code is wrong, and that was the last try; ask for a new one.")
    return ngettext(
        "This code is wrong; %(left)d try left.", "This code is wrong; %(left)d tries left.", left
    ) % {"left": left}


def sms_code_wrong(sms_code: SMSCode) -> str:
    return wrong_code_message(settings.SMS_CODE_MAX_ATTEMPTS - sms_code.attempts)
