"""Secrets the server must read back (a TOTP seed), encrypted at rest with a key from SECRET_KEY.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`): a copy of the database alone does not
give the secrets away. The key is derived from SECRET_KEY, and values written under one of
SECRET_KEY_FALLBACKS still decrypt, so a key rotation keeps working as it does for Django's own
signatures; `encrypt` always uses the current key.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "apps.core.encryption"


class DecryptionFailed(Exception):
    """The value was not written under SECRET_KEY or any of its fallbacks, or was altered."""


def _fernet(secret: str) -> Fernet:
    key = salted_hmac(_SALT, "fernet-key", secret=secret, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(secret) for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]])


def encrypt(text: str) -> str:
    return _keys().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionFailed() from exc
