from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from anymail.exceptions import AnymailRecipientsRefused
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.tasks import flush_expired_tokens, send_account_email

pytestmark = pytest.mark.django_db


def test_sends_the_requested_email(make_user):
    user = make_user()
    assert send_account_email.delay(user.pk, "password_reset").get() is True
    assert mail.outbox[0].to == [user.email]


def test_skips_users_that_are_gone_or_deactivated(make_user):
    user = make_user(is_active=False)
    assert send_account_email.delay(user.pk, "password_reset").get() is False
    assert send_account_email.delay(999_999, "password_reset").get() is False
    assert mail.outbox == []


def test_does_not_send_a_verification_link_to_a_verified_address(make_user):
    user = make_user(email_verified_at=timezone.now())
    assert send_account_email.delay(user.pk, "verify_email").get() is False
    assert mail.outbox == []


def fail_with(error):
    def send(**kwargs):
        raise error

    return send


def test_transient_mail_failures_are_scheduled_for_a_retry(make_user, monkeypatch):
    monkeypatch.setattr(
        "apps.accounts.tasks.account_email_send", fail_with(SMTPServerDisconnected("went away"))
    )
    with pytest.raises(Retry) as retry:
        send_account_email.apply(args=(make_user().pk, "password_reset"), throw=True)
    assert isinstance(retry.value.exc, SMTPServerDisconnected)
    assert send_account_email.max_retries >= 3


def test_a_refused_address_is_not_retried(make_user, monkeypatch):
    monkeypatch.setattr("apps.accounts.tasks.account_email_send", fail_with(AnymailRecipientsRefused()))
    with pytest.raises(AnymailRecipientsRefused):
        send_account_email.apply(args=(make_user().pk, "password_reset"), throw=True)


def test_flush_removes_only_expired_refresh_tokens(make_user):
    user = make_user()
    live = RefreshToken.for_user(user)
    expired = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at=timezone.now() - timedelta(days=1))
    flush_expired_tokens.delay()
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
