"""Single-use, expiring tokens for links in emails, and the uid that goes with them."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Valid for EMAIL_VERIFICATION_TIMEOUT seconds, and only until the address is verified
    or changed (both are part of the hash)."""

    key_salt = "apps.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        verified = "" if user.email_verified_at is None else user.email_verified_at.isoformat()
        return f"{user.pk}{user.email}{verified}{timestamp}"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            timestamp_b36, _ = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return (self._num_seconds(self._now()) - timestamp) <= settings.EMAIL_VERIFICATION_TIMEOUT


email_verification_token = EmailVerificationTokenGenerator()
# Django's own generator: expires after PASSWORD_RESET_TIMEOUT and dies once the password changes.
password_reset_token = default_token_generator


def uid_for(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_id_from_uid(uid: str) -> int | None:
    try:
        return int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
