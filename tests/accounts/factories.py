"""Account rows for the account tests."""

from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import SMSCode
from apps.accounts.tokens import sms_code_hash


def phone_verifications():
    """The texted codes that verify a phone number."""
    return SMSCode.objects.filter(purpose=SMSCode.Purpose.PHONE_VERIFICATION)


def phone_verification_with_code(user, *, phone: str, code: str) -> SMSCode:
    """A live verification of `phone` for `user` whose code is `code`, as if its SMS had just gone out."""
    now = timezone.now()
    verification = SMSCode.objects.create(
        user=user,
        purpose=SMSCode.Purpose.PHONE_VERIFICATION,
        phone=phone,
        expires_at=now + timedelta(minutes=10),
        sent_at=now,
    )
    verification.code_hash = sms_code_hash(verification, code)
    verification.save(update_fields=["code_hash"])
    return verification
