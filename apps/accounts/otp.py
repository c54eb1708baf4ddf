"""Time-based one-time passwords (RFC 6238) through pyotp, and their QR codes through segno.

Codes have six digits and 30-second steps, what every authenticator app expects. A code is
accepted for the current step and one step either side (clock drift), and only for a step after
the last one accepted, so a code cannot be used twice, nor an older one after a newer.
"""

import time

import pyotp
import segno
from django.conf import settings
from pyotp.utils import strings_equal

DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1


def secret_make() -> str:
    return pyotp.random_base32()  # 160 bits, the size RFC 4226 recommends


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account_name, issuer_name=settings.TOTP_ISSUER
    )


def qr_code_data_uri(uri: str) -> str:
    """The URI as a QR code: an SVG `data:` URI an `<img>` shows as is."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def matching_step(secret: str, code: str, *, after_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` belongs to, within the drift and after `after_step`; None otherwise."""
    if not (isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    step = current_step(now)
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        # Every candidate is compared, in constant time, whatever matched before.
        if strings_equal(totp.generate_otp(candidate), code) and (
            after_step is None or candidate > after_step
        ):
            found = candidate if found is None else found
    return found
