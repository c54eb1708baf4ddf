"""Rate limits on the account flows attackers aim at: sign-in and its second step, registration,
password resets and checks, verification codes and emails.

All of them keep counting while Redis is down (`SecurityThrottle`, `SecurityBudget` in
apps/core/throttles.py); their rates are REST_FRAMEWORK throttle rates (`THROTTLE_*_RATE`).
"""

from apps.core.throttles import SecurityBudget, SecurityThrottle


class LoginThrottle(SecurityThrottle):
    """Every login attempt from one IP address, to slow down scans across many accounts."""

    scope = "login"


class LoginFailureThrottle(SecurityThrottle):
    """Failed logins for one email from one IP address. Only failures are counted.

    `allow_request` checks the history without adding to it. The view `reserve`s a slot
    before checking the password and `release`s it when the password was right, so a burst
    of parallel guesses counts as the failures it is about to be.
    """

    scope = "login_failures"
    counted_per = "ip+email"

    def allow_request(self, request, view):
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    @classmethod
    def reserve(cls, request) -> float:
        throttle = cls()
        throttle.allow_request(request, None)
        throttle.history.insert(0, throttle.now)
        throttle.cache.set(throttle.key, throttle.history, throttle.duration)
        return throttle.now

    @classmethod
    def release(cls, request, reserved: float) -> None:
        throttle = cls()
        throttle.allow_request(request, None)
        if reserved in throttle.history:
            throttle.history.remove(reserved)
            throttle.cache.set(throttle.key, throttle.history, throttle.duration)


class RegisterThrottle(SecurityThrottle):
    scope = "register"


class PasswordResetThrottle(SecurityThrottle):
    """Reset requests per IP address and the email or phone number they name."""

    scope = "password_reset"
    counted_per = "ip+email"


class PasswordResetConfirmThrottle(SecurityThrottle):
    """Attempts to use reset links and texted reset codes, per IP address: a link names no email,
    and a phone number named beside a guessed code must not split the budget."""

    scope = "password_reset"
    counted_per = "ip"
    cache_format = "throttle_%(scope)s_confirm_%(ident)s"


class PasswordCheckThrottle(SecurityThrottle):
    """Calls that check the signed-in user's password (change it, close the account), per user:
    a stolen access token must not become a password-guessing oracle."""

    scope = "password_check"
    counted_per = "user"


class EmailVerificationResendThrottle(SecurityThrottle):
    """Verification emails re-sent per user."""

    scope = "email_verification_resend"
    counted_per = "user"


class PhoneVerificationThrottle(SecurityThrottle):
    """Verification codes asked for, per user (`THROTTLE_PHONE_VERIFICATION_RATE`).

    Each one is a text message we pay for, sent to a number nobody has proved to hold, and each
    brings a fresh budget of SMS_CODE_MAX_ATTEMPTS guesses: this limit bounds both.
    """

    scope = "phone_verification"
    counted_per = "user"


class SignInSecondStepThrottle(SecurityThrottle):
    """The second step of sign-in (`auth/login/sms/`, `auth/login/verify/`), per IP address
    (`THROTTLE_MFA_RATE`). Wrong codes are also limited per challenge and per account, in the
    database (apps/accounts/services/signin.py)."""

    scope = "mfa"  # the setting's name, THROTTLE_MFA_RATE, is published


class TwoFactorSMSThrottle(SecurityThrottle):
    """Codes texted for a two-factor change (`auth/2fa/sms/code/`), per user
    (`THROTTLE_TWO_FACTOR_SMS_RATE`): each is a text message we pay for."""

    scope = "two_factor_sms"
    counted_per = "user"


class AccountReactivationThrottle(SecurityThrottle):
    """Reactivation links asked for, per IP address and the address they name
    (`THROTTLE_ACCOUNT_REACTIVATION_RATE`): each is an email."""

    scope = "account_reactivation"
    counted_per = "ip+email"


class AccountReactivationConfirmThrottle(SecurityThrottle):
    """Attempts to use reactivation links, per IP address: a token names no email."""

    scope = "account_reactivation"
    counted_per = "ip"
    cache_format = "throttle_%(scope)s_confirm_%(ident)s"


class AccountExportThrottle(SecurityThrottle):
    """Personal data exports per user (`THROTTLE_ACCOUNT_EXPORT_RATE`): each reads every table
    about them, across three databases."""

    scope = "account_export"
    counted_per = "user"


class PasswordResetCodeFailureBudget(SecurityBudget):
    """Refused texted reset codes per account (`THROTTLE_PASSWORD_RESET_CODE_FAILURES_RATE`),
    across every code, address and number; the per-code and per-address limits alone let a
    spread-out guesser ask for new codes for ever."""

    scope = "password_reset_code_failures"
