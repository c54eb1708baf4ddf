"""The account emails: rendered from templates/emails/accounts/, sent through EMAIL_BACKEND."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timesince import timeuntil

from apps.accounts.tokens import (
    email_change_token_make,
    email_verification_token,
    password_reset_token,
    uid_for,
)


class AccountEmail(models.TextChoices):
    VERIFY_EMAIL = "verify_email", "Verify email address"
    PASSWORD_RESET = "password_reset", "Password reset"
    WELCOME = "welcome", "Welcome"
    EMAIL_CHANGE_CONFIRM = "email_change_confirm", "Confirm a new email address"
    EMAIL_CHANGE_NOTICE = "email_change_notice", "Email change requested (to the old address)"


def _valid_for(seconds: int) -> str:
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now)


def _context(user, kind: str, new_email: str | None) -> dict:
    context = {"user": user, "site_name": settings.SITE_NAME, "link": settings.FRONTEND_URL + "/"}
    # Tokens are made here, when the email is sent, so they never travel through the broker.
    if kind == AccountEmail.VERIFY_EMAIL:
        token = email_verification_token.make_token(user)
        context["link"] = f"{settings.FRONTEND_URL}/verify-email?uid={uid_for(user)}&token={token}"
        context["valid_for"] = _valid_for(settings.EMAIL_VERIFICATION_TIMEOUT)
    elif kind == AccountEmail.PASSWORD_RESET:
        token = password_reset_token.make_token(user)
        context["link"] = f"{settings.FRONTEND_URL}/reset-password?uid={uid_for(user)}&token={token}"
        context["valid_for"] = _valid_for(settings.PASSWORD_RESET_TIMEOUT)
    elif kind == AccountEmail.EMAIL_CHANGE_CONFIRM:
        token = email_change_token_make(user, new_email)
        context["link"] = f"{settings.FRONTEND_URL}/confirm-email-change?token={token}"
        context["valid_for"] = _valid_for(settings.EMAIL_VERIFICATION_TIMEOUT)
        context["new_email"] = new_email
    return context


def account_email_send(*, user, kind: str, new_email: str | None = None) -> None:
    """Send one account email to the user's address, or to `new_email` to confirm a change to it."""
    context = _context(user, kind, new_email)
    template = f"emails/accounts/{kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[new_email if kind == AccountEmail.EMAIL_CHANGE_CONFIRM else user.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
