"""The account emails: rendered from templates/emails/accounts/, sent through EMAIL_BACKEND."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timesince import timeuntil

from apps.accounts.tokens import email_verification_token, password_reset_token, uid_for


class AccountEmail(models.TextChoices):
    VERIFY_EMAIL = "verify_email", "Verify email address"
    PASSWORD_RESET = "password_reset", "Password reset"
    WELCOME = "welcome", "Welcome"


def _valid_for(seconds: int) -> str:
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now)


def _context(user, kind: str) -> dict:
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
    return context


def account_email_send(*, user, kind: str) -> None:
    context = _context(user, kind)
    template = f"emails/accounts/{kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
