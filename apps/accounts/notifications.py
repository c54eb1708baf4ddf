"""The account messages, sent through the notification pipeline (apps/notifications).

Links carry one-time tokens, so they are made in the delivery task, at send time (a retry makes a
fresh one), and the stored copy of the message shows them masked.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timeuntil

from apps.accounts.tokens import (
    email_change_token_make,
    email_verification_token,
    password_reset_token,
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


def _home(notification) -> dict:
    return {"link": settings.FRONTEND_URL + "/"}


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
