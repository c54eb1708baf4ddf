"""Account rows for the account tests."""

from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import PhoneVerification
from apps.accounts.tokens import phone_code_hash


def phone_verification_with_code(user, *, phone: str, code: str) -> PhoneVerification:
    """A live verification of `phone` for `user` whose code is `code`, as if its SMS had just gone out."""
    now = timezone.now()
    verification = PhoneVerification.objects.create(
        user=user, phone=phone, expires_at=now + timedelta(minutes=10), code_sent_at=now
    )
    verification.code_hash = phone_code_hash(verification, code)
    verification.save(update_fields=["code_hash"])
    return verification
