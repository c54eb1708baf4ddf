"""The account messages, sent through the notification pipeline (apps/notifications).

Links and codes are one-time secrets, so they are made in the delivery task, at send time (a
retry makes a fresh one), and the stored copy of the message shows them masked. A texted code
must also be kept: its hash goes on its SMSCode row as it is made
(apps/accounts/services/sms_codes.py).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timeuntil

from apps.accounts.services.sms_codes import sms_code_make
from apps.accounts.tokens import (
    email_change_token_make,
    email_verification_token,
    password_reset_token,
    reactivation_token_make,
    uid_for,
)
from apps.notifications.kinds import Kind, NotNeeded, default_address, register
from apps.notifications.models import Category, Channel


def _valid_for(seconds: int) -> str:
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now)


def _verification_link(notification) -> dict:
    user = notification.recipient
    if user.is_email_verified:
        raise NotNeeded("the address was verified meanwhile")  # a late retry must not send a dead link
    token = email_verification_token.make_token(user)
    return {
        "link": f"{settings.FRONTEND_URL}/verify-email?uid={uid_for(user)}&token={token}",
        "valid_for": _valid_for(settings.EMAIL_VERIFICATION_TIMEOUT),
    }


def _reset_link(notification) -> dict:
    user = notification.recipient
    token = password_reset_token.make_token(user)
    return {
        "link": f"{settings.FRONTEND_URL}/reset-password?uid={uid_for(user)}&token={token}",
        "valid_for": _valid_for(settings.PASSWORD_RESET_TIMEOUT),
    }


def _email_change_link(notification) -> dict:
    token = email_change_token_make(notification.recipient, notification.context["new_email"])
    return {
        "link": f"{settings.FRONTEND_URL}/confirm-email-change?token={token}",
        "valid_for": _valid_for(settings.EMAIL_VERIFICATION_TIMEOUT),
    }


def _the_new_address(user, context: dict, channel: str) -> str | None:
    return context["new_email"] if channel == Channel.EMAIL else default_address(user, context, channel)


def _texted_code(notification) -> dict:
    made = sms_code_make(
        kind=notification.key, user_id=notification.recipient_id, context=notification.context
    )
    if made is None:
        raise NotNeeded("the code was replaced, used, has expired or is out of tries, or its number changed")
    # timeuntil() joins number and unit with a no-break space, which the GSM-7 alphabet lacks: one
    # such character makes the whole SMS UCS-2, 70 characters a segment instead of 160.
    valid_for = _valid_for(made.minutes * 60).replace("\xa0", " ")
    return {"code": made.code, "valid_for": valid_for}


def _the_pending_number(user, context: dict, channel: str) -> str | None:
    # The number is not verified yet, which is why this message exists: the default address
    # would skip it (SMS go to verified numbers only).
    return context["phone"] if channel == Channel.SMS else default_address(user, context, channel)


def _the_code_number(user, context: dict, channel: str) -> str | None:
    # The number the code row was made for; sms_code_make refuses to send if it is no longer the
    # account's verified number.
    return context["phone"] if channel == Channel.SMS else default_address(user, context, channel)


def _home(notification) -> dict:
    return {"link": settings.FRONTEND_URL + "/"}


def _phone_change(notification) -> dict:
    return {**_home(notification), "cooling_off_hours": settings.PHONE_RESET_COOLING_OFF_HOURS}


def _the_account_and_the_old_number(user, context: dict, channel: str) -> str | None:
    # The account's number is the new one by now; the SMS copy is for the one it replaced, and
    # only if that one was verified (a number nobody proved gets no text from us) and within its
    # text budgets (apps/accounts/services/phone.py: phone_change_notify).
    if channel == Channel.SMS:
        return context["old_phone"] if context.get("text_old_phone") else None
    return default_address(user, context, channel)


def _erasure_date(notification) -> dict:
    from datetime import datetime

    erase_after = datetime.fromisoformat(notification.context["erase_after"])
    return {
        "erase_on": f"{erase_after:%d %B %Y}",
        "link": f"{settings.FRONTEND_URL}/reactivate",
    }


def _reactivation_link(notification) -> dict:
    from apps.accounts.models import AccountDeletion

    deletion = AccountDeletion.objects.filter(
        user_id=notification.recipient_id, erased_at__isnull=True, erase_after__gt=timezone.now()
    ).first()
    if deletion is None or deletion.requested_at.isoformat() != notification.context["requested_at"]:
        raise NotNeeded("the account was reactivated or erased meanwhile")
    token = reactivation_token_make(notification.recipient, deletion.requested_at)
    return {
        "link": f"{settings.FRONTEND_URL}/reactivate?token={token}",
        "valid_for": _valid_for(settings.PASSWORD_RESET_TIMEOUT),
        "erase_on": f"{deletion.erase_after:%d %B %Y}",
    }


VERIFY_EMAIL = register(
    Kind(
        "verify_email",
        Category.ACCOUNT,
        transactional=True,
        description="The link that confirms an account's email address.",
        send_context=_verification_link,
        secret=("link",),
    )
)
PASSWORD_RESET = register(
    Kind(
        "password_reset",
        Category.ACCOUNT,
        transactional=True,
        description="The link that sets a new password.",
        send_context=_reset_link,
        secret=("link",),
    )
)
WELCOME = register(
    Kind(
        "welcome",
        Category.ACCOUNT,
        description="Sent once the address is confirmed, when the account is ready.",
        send_context=_home,
    )
)
EMAIL_CHANGE_CONFIRM = register(
    Kind(
        "email_change_confirm",
        Category.ACCOUNT,
        transactional=True,
        description="The link, sent to the new address, that completes an email change.",
        send_context=_email_change_link,
        secret=("link",),
        address=_the_new_address,
    )
)
EMAIL_CHANGE_NOTICE = register(
    Kind(
        "email_change_notice",
        Category.ACCOUNT,
        transactional=True,
        description="Tells the old address that a change to another one was asked for.",
        send_context=_home,
    )
)
PHONE_VERIFICATION = register(
    Kind(
        "phone_verification",
        Category.ACCOUNT,
        channels=(Channel.SMS,),
        transactional=True,
        description="The code, texted to a number being added, that proves the user holds it.",
        send_context=_texted_code,
        secret=("code",),
        address=_the_pending_number,
        sample_context={"code": "123456", "valid_for": "10 minutes"},
    )
)
SIGN_IN_CODE = register(
    Kind(
        "2fa_code",
        Category.ACCOUNT,
        channels=(Channel.SMS,),
        transactional=True,
        description="A code for the second step of signing in, or to confirm a two-factor change.",
        send_context=_texted_code,
        secret=("code",),
        address=_the_code_number,
        sample_context={"code": "123456", "valid_for": "5 minutes"},
    )
)
PASSWORD_RESET_CODE = register(
    Kind(
        "password_reset_code",
        Category.ACCOUNT,
        channels=(Channel.SMS,),
        transactional=True,
        description="The code, texted to a verified number, that sets a new password.",
        send_context=_texted_code,
        secret=("code",),
        address=_the_code_number,
        sample_context={"code": "123456", "valid_for": "5 minutes"},
    )
)
TWO_FACTOR_ENABLED = register(
    Kind(
        "two_factor_enabled",
        Category.ACCOUNT,
        transactional=True,
        description="Tells the account that a second sign-in factor was turned on.",
        send_context=_home,
    )
)
TWO_FACTOR_DISABLED = register(
    Kind(
        "two_factor_disabled",
        Category.ACCOUNT,
        transactional=True,
        description="Tells the account that two-factor sign-in was turned off, by its owner or by staff.",
        send_context=_home,
    )
)
PHONE_CHANGE_NOTICE = register(
    Kind(
        "phone_change_notice",
        Category.ACCOUNT,
        channels=(Channel.EMAIL, Channel.SMS),
        transactional=True,
        description="Tells the account, by email and on the number replaced, that its phone number changed.",
        send_context=_phone_change,
        address=_the_account_and_the_old_number,
        sample_context={"new_phone": "+447911123456", "old_phone": "+447400123456", "cooling_off_hours": 24},
    )
)
PASSWORD_CHANGED = register(
    Kind(
        "password_changed",
        Category.ACCOUNT,
        transactional=True,
        description="Tells the account that its password was changed or reset, and how.",
        send_context=_home,
    )
)
RECOVERY_CODES_GENERATED = register(
    Kind(
        "recovery_codes_generated",
        Category.ACCOUNT,
        transactional=True,
        description="Tells the account that new recovery codes replaced its earlier ones.",
        send_context=_home,
    )
)
ACCOUNT_CLOSED = register(
    Kind(
        "account_closed",
        Category.ACCOUNT,
        transactional=True,
        description="Sent as an account is closed: when it will be erased, and how to come back.",
        send_context=_erasure_date,
        reaches_inactive=True,
    )
)
ACCOUNT_REACTIVATE = register(
    Kind(
        "account_reactivate",
        Category.ACCOUNT,
        transactional=True,
        description="The link that opens a closed account again, before it is erased.",
        send_context=_reactivation_link,
        secret=("link",),
        reaches_inactive=True,
    )
)
