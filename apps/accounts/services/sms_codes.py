"""Six-digit codes texted to a phone (`SMSCode`), for every purpose: verifying a number being added
(phone.py), the second step of a sign-in and confirming a two-factor change (two_factor.py), and
resetting a password (accounts.py). This module is their one owner:

1. `sms_code_issue` takes the text budgets (apps/notifications/sms_budget.py), replaces the user's
   code of that purpose with a new row and queues the purpose's SMS. A new row rather than an
   update: an SMS still queued for the old one finds it gone and is not sent.
2. The delivery task calls `sms_code_make` (apps/accounts/notifications.py): the code is made then,
   only its HMAC is kept (apps.accounts.tokens.sms_code_hash), and the stored copy of the message
   masks it, so the clear code never waits in a queue or a table. A retry makes a fresh code, which
   replaces the last.
3. A check locks the row (`sms_code_locked`, after the user's row when the caller locks that too),
   asks `sms_code_refusal` why no code can be right now, and counts the try (`sms_code_try`), which
   uses a right code up. A refused try must stay counted: the caller commits before it raises its
   400. Two checks of one code are serialised by the lock, so exactly one succeeds.
4. `sms_codes_discard` ends codes that have lost their point.

What differs between purposes is in `PURPOSES`: the message, the lifetime, and where the text goes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts.models import SMSCode, TwoFactorChallenge, User
from apps.accounts.tokens import phone_code_make, sms_code_hash, sms_code_matches
from apps.notifications.services import notify
from apps.notifications.sms_budget import sms_budget_take

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class CodeRules:
    # The notification kind (and SMS template) that texts the code, and the key of its context
    # that names the row (`verification_id` in a phone verification's, as it always has been).
    kind: str
    id_key: str
    # The setting that says for how many minutes a code is good from its sending.
    minutes_setting: str
    # True: the text goes to the number being verified, not yet the account's. It is withheld when
    # another account has verified that number, and no answer may tell: so the row counts as a code
    # from the moment it is asked for, text or no text. A check of it counts a try and gets the
    # answer of a wrong code, and it dies (expires, runs out of tries) from then on, a text still
    # queued by then not being sent. False: the text goes to the account's verified number, and
    # the row is a code only once its text has gone out.
    to_pending_number: bool = False


PURPOSES: dict[str, CodeRules] = {
    SMSCode.Purpose.PHONE_VERIFICATION: CodeRules(
        "phone_verification", "verification_id", "PHONE_VERIFICATION_CODE_MINUTES", to_pending_number=True
    ),
    SMSCode.Purpose.SIGN_IN: CodeRules("2fa_code", "sms_code_id", "SMS_CODE_MINUTES"),
    SMSCode.Purpose.TWO_FACTOR_CHANGE: CodeRules("2fa_code", "sms_code_id", "SMS_CODE_MINUTES"),
    SMSCode.Purpose.PASSWORD_RESET: CodeRules("password_reset_code", "sms_code_id", "SMS_CODE_MINUTES"),
}


def _minutes(purpose: str) -> int:
    minutes: int = getattr(settings, PURPOSES[purpose].minutes_setting)
    return minutes


def _lifetime(purpose: str) -> timedelta:
    return timedelta(minutes=_minutes(purpose))


def _out_of_tries(sms_code: SMSCode) -> bool:
    # A sign-in code's tries count on its mfa_token (MFA_TOKEN_MAX_ATTEMPTS), not here.
    return sms_code.challenge_id is None and sms_code.attempts >= settings.SMS_CODE_MAX_ATTEMPTS


def number_verified_elsewhere(phone: str, user: User) -> bool:
    """Whether an account other than `user`'s has verified `phone`."""
    return User.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(pk=user.pk).exists()


# --- Issuing and sending ----------------------------------------------------------------------------------
def sms_code_issue(
    *, user: User, purpose: str, phone: str | None = None, challenge: TwoFactorChallenge | None = None
) -> SMSCode:
    """Replace the user's code of `purpose` with a new one and queue its SMS. Runs in the caller's
    transaction.

    `phone` is the number being verified, for a phone verification; every other code goes to the
    account's number, which the caller has checked is verified. `challenge` is the mfa_token's, for
    a sign-in code. SMSBudgetSpent (a 429) when the number's or the global text budget is spent;
    nothing changes then.
    """
    rules = PURPOSES[purpose]
    number = str(phone if rules.to_pending_number else user.phone)
    sms_budget_take(number)
    SMSCode.objects.filter(user=user, purpose=purpose).delete()
    sms_code = SMSCode.objects.create(
        user=user,
        purpose=purpose,
        challenge=challenge,
        phone=number,
        expires_at=timezone.now() + _lifetime(purpose),
    )
    notify(user=user, key=rules.kind, channels=["sms"], context={rules.id_key: sms_code.pk, "phone": number})
    return sms_code


class MadeCode(NamedTuple):
    code: str
    minutes: int  # for how long it is good


def _number_still_right(sms_code: SMSCode) -> bool:
    if PURPOSES[sms_code.purpose].to_pending_number:
        # Not the asker's number: its owner gets no code they did not ask for, the asker no way on.
        return not number_verified_elsewhere(str(sms_code.phone), sms_code.user)
    user = sms_code.user
    return user.is_active and user.is_phone_verified and str(user.phone) == str(sms_code.phone)


@transaction.atomic
def sms_code_make(*, kind: str, user_id: int, context: dict[str, Any]) -> MadeCode | None:
    """The delivery task's half for a message of `kind` to `user_id` queued by `sms_code_issue`
    (its `context`): a fresh code, valid from now, whose hash is kept; the code is returned for the
    SMS and forgotten.

    None when the message has lost its point: its row was replaced (it is gone), used, has expired
    or has no tries left, its sign-in has ended, or its number is no longer right for it (a phone
    verification's: verified by another account meanwhile; any other: no longer the account's
    verified number).
    """
    purposes = [purpose for purpose, rules in PURPOSES.items() if rules.kind == kind]
    row_id = context[PURPOSES[purposes[0]].id_key]
    sms_code = (
        SMSCode.objects.select_for_update(of=("self",))
        .select_related("user", "challenge")
        .filter(user_id=user_id, purpose__in=purposes, phone=context["phone"])
        # A message queued before phone verifications moved here names the id of their old row.
        .filter(Q(pk=row_id) | Q(legacy_verification_id=row_id))
        .first()
    )
    now = timezone.now()
    if sms_code is None or sms_code.used_at is not None:
        return None
    has_code = bool(sms_code.code_hash) or PURPOSES[sms_code.purpose].to_pending_number
    if has_code and (now >= sms_code.expires_at or _out_of_tries(sms_code)):
        return None
    if sms_code.challenge is not None and not sms_code.challenge.is_live(now):
        return None
    if not _number_still_right(sms_code):
        return None
    code = phone_code_make()
    sms_code.code_hash = sms_code_hash(sms_code, code)
    # Good for its whole lifetime from when it is sent, not from when it was asked for: a retry
    # after a provider outage still gives the user the time the message promises.
    sms_code.sent_at, sms_code.expires_at = now, now + _lifetime(sms_code.purpose)
    sms_code.save(update_fields=["code_hash", "sent_at", "expires_at"])
    return MadeCode(code, _minutes(sms_code.purpose))


# --- Checking ---------------------------------------------------------------------------------------------
def sms_code_locked(
    *, user: User | None, purpose: str, challenge: TwoFactorChallenge | None = None
) -> SMSCode | None:
    """The user's code of `purpose` (of `challenge`, for a sign-in), locked for the check. None for
    no user: a reset by SMS looks a code up for a number without an account too, to read the same."""
    codes = SMSCode.objects.select_for_update().filter(user=user, purpose=purpose)
    if challenge is not None:
        codes = codes.filter(challenge=challenge)
    return codes.first()


def sms_code_refusal(sms_code: SMSCode | None, now: datetime) -> "StrOrPromise | None":
    """Why no code can be right for this row now; None when one can."""
    if sms_code is None or not (sms_code.code_hash or PURPOSES[sms_code.purpose].to_pending_number):
        return _("No code was sent to you; ask for one first.")
    if sms_code.used_at is not None:
        return _("This code was already used; ask for a new one.")
    if _out_of_tries(sms_code):
        return _("Too many wrong codes; ask for a new one.")
    if now >= sms_code.expires_at:
        return _("This code has expired; ask for a new one.")
    return None


def sms_code_try(sms_code: SMSCode, code: str, now: datetime, *, use_up: bool = True) -> bool:
    """Count a try of a code `sms_code_refusal` let through (its own tries; a sign-in code's count
    on its mfa_token) and say whether `code` is right. A right code is used up, unless `use_up` is
    False: then the caller calls `sms_code_use_up` once the change the code allows is made. The
    caller holds the row's lock."""
    fields = []
    if sms_code.challenge_id is None:
        sms_code.attempts += 1
        fields.append("attempts")
    right = sms_code_matches(sms_code, code)
    if right and use_up:
        sms_code.used_at = now
        fields.append("used_at")
    if fields:
        sms_code.save(update_fields=fields)
    return right


def sms_code_use_up(sms_code: SMSCode, now: datetime) -> None:
    sms_code.used_at = now
    sms_code.save(update_fields=["used_at"])


def sms_code_wrong(sms_code: SMSCode) -> "StrOrPromise":
    """The refusal of a wrong code of this row, its try counted."""
    left = settings.SMS_CODE_MAX_ATTEMPTS - sms_code.attempts
    if left <= 0:
        return _("This code is wrong, and that was the last try; ask for a new one.")
    return ngettext(
        "This code is wrong; %(left)d try left.", "This code is wrong; %(left)d tries left.", left
    ) % {"left": left}


# --- Ending -----------------------------------------------------------------------------------------------
def sms_codes_discard(*, user: User, purposes: list[str]) -> None:
    """End the user's codes of `purposes`: they no longer work, and an SMS still queued for one
    finds it gone and is not sent."""
    SMSCode.objects.filter(user=user, purpose__in=purposes).delete()
