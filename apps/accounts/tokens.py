"""Single-use, expiring tokens for links in emails (verification, reset, email change), uids, the
codes sent by SMS, recovery codes, and the tokens of two-factor challenges."""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
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


# --- Email change ---------------------------------------------------------------------------------------
EMAIL_CHANGE_SALT = "apps.accounts.tokens.email_change"


@dataclass(frozen=True)
class EmailChangeClaim:
    user_id: int
    new_email: str
    state: str


def _email_change_state(user) -> str:
    # Part of the link: it dies once the address changes (so it works once) or the password does.
    return salted_hmac(EMAIL_CHANGE_SALT, f"{user.pk}|{user.email}|{user.password}").hexdigest()[:32]


def email_change_token_make(user, new_email: str) -> str:
    """A signed link token carrying the new address; valid for EMAIL_VERIFICATION_TIMEOUT seconds."""
    payload = {"u": user.pk, "e": new_email, "s": _email_change_state(user)}
    return signing.dumps(payload, salt=EMAIL_CHANGE_SALT, compress=True)


def email_change_token_read(token: str) -> EmailChangeClaim | None:
    """The claim of a token that is well-signed and unexpired; None for any other."""
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
        claim = EmailChangeClaim(user_id=payload["u"], new_email=payload["e"], state=payload["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if not (
        isinstance(claim.user_id, int) and isinstance(claim.new_email, str) and isinstance(claim.state, str)
    ):
        return None
    return claim


def email_change_token_matches(user, claim: EmailChangeClaim) -> bool:
    return constant_time_compare(_email_change_state(user), claim.state)


# --- Codes texted to a phone (apps/accounts/services/sms_codes.py) ---------------------------------------
SMS_CODE_SALT = "apps.accounts.tokens.sms_code"
PHONE_CODE_DIGITS = 6


def phone_code_make() -> str:
    """A fresh code of six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"


def _keyed_hash(salt: str, message: str, secret: str | None = None) -> str:
    return salted_hmac(salt, message, secret=secret, algorithm="sha256").hexdigest()


def _keyed_hash_matches(salt: str, message: str, stored: str) -> bool:
    return bool(stored) and any(
        constant_time_compare(_keyed_hash(salt, message, secret), stored)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )


def _sms_code_message(sms_code, code: str) -> str:
    # The row, its purpose and its number are in the message: a hash is good for that code only.
    return f"{sms_code.pk}|{sms_code.purpose}|{sms_code.user_id}|{sms_code.phone}|{code}"


def sms_code_hash(sms_code, code: str) -> str:
    """The keyed hash of `code` that an `SMSCode` row keeps instead of the code.

    An HMAC with SECRET_KEY, not a password hash: six digits are a million values, so anyone
    holding a salted hash alone (make_password) tries them all offline: within a day with Argon2,
    in a second with a fast hash. Keyed with SECRET_KEY, a copy of the table is useless without
    the key, and whoever holds the key can sign sessions anyway. A slow hash would only add CPU
    to every send and check.
    """
    return _keyed_hash(SMS_CODE_SALT, _sms_code_message(sms_code, code))


# Phone verification codes texted before they became SMS codes (migration 0011) were hashed with
# this salt and the id of their former row, which such a row keeps as `legacy_verification_id`.
LEGACY_PHONE_CODE_SALT = "apps.accounts.tokens.phone_code"


def sms_code_matches(sms_code, code: str) -> bool:
    """Whether `code` is the one texted for `sms_code` (also under a previous SECRET_KEY)."""
    if not code:
        return False
    if _keyed_hash_matches(SMS_CODE_SALT, _sms_code_message(sms_code, code), sms_code.code_hash):
        return True
    legacy_id = sms_code.legacy_verification_id
    return legacy_id is not None and _keyed_hash_matches(
        LEGACY_PHONE_CODE_SALT, f"{legacy_id}|{sms_code.phone}|{code}", sms_code.code_hash
    )


# --- Recovery codes ---------------------------------------------------------------------------------------
RECOVERY_CODE_SALT = "apps.accounts.tokens.recovery_code"
# No 0/o, 1/l/i: codes are read off paper and typed back.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10  # 31**10: about 50 bits each


def recovery_code_make() -> str:
    """A fresh recovery code, shown as two groups of five: `k7m2p-xq9ha`."""
    raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_normalize(code: str) -> str:
    """What a user typed, the way codes are hashed: case, spaces and dashes do not matter."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_hashes(user_id: int, code: str) -> list[str]:
    """The hashes `code` may be stored under for this user: one per key (SECRET_KEY and its
    fallbacks), so a stored hash is found by equality. Fifty random bits need no slow hash: no
    offline search can cover them, and the key is needed besides."""
    message = f"{user_id}|{recovery_code_normalize(code)}"
    return [
        _keyed_hash(RECOVERY_CODE_SALT, message, secret)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]


# --- Two-factor challenges (the API's `mfa_token`) -----------------------------------------------------
def challenge_token_make() -> str:
    return secrets.token_urlsafe(32)


def challenge_token_hash(token: str) -> str:
    # 256 random bits: a plain SHA-256 finds the row and gives nothing away.
    return hashlib.sha256(token.encode()).hexdigest()


# --- Reactivation of a closed account ------------------------------------------------------------------
REACTIVATION_SALT = "apps.accounts.tokens.reactivation"


@dataclass(frozen=True)
class ReactivationClaim:
    user_id: int
    requested_at: str  # the closing it undoes: a link for an earlier closing is dead


def reactivation_token_make(user, requested_at) -> str:
    """A signed link token naming the account and its closing; valid for PASSWORD_RESET_TIMEOUT
    seconds, and once: reactivating ends the closing it names."""
    return signing.dumps({"u": user.pk, "r": requested_at.isoformat()}, salt=REACTIVATION_SALT, compress=True)


def reactivation_token_read(token: str) -> ReactivationClaim | None:
    """The claim of a token that is well-signed and unexpired; None for any other."""
    try:
        payload = signing.loads(token, salt=REACTIVATION_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
        claim = ReactivationClaim(user_id=payload["u"], requested_at=payload["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if not (isinstance(claim.user_id, int) and isinstance(claim.requested_at, str)):
        return None
    return claim
