"""The accounts app's own security throttles (the shared ones are in apps/core/throttles.py)."""

from apps.core.throttles import SecurityThrottle


class PhoneVerificationThrottle(SecurityThrottle):
    """Verification codes asked for, per user (`THROTTLE_PHONE_VERIFICATION_RATE`).

    Each one is a text message we pay for, sent to a number nobody has proved to hold, and each
    brings a fresh budget of PHONE_VERIFICATION_MAX_ATTEMPTS guesses: this limit bounds both.
    """

    scope = "phone_verification"
    counted_per = "user"
