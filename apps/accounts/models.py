import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from apps.core.normalization import canonical_email
from apps.core.validators import validate_visible_text


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    # Emails are stored in their canonical form, so a lookup compares that form exactly, as the
    # unique constraint does. Usernames keep the case people chose: both sides are lower-cased by
    # the database, with the function of the unique constraint, so the two always agree.
    def with_email(self, email: str) -> "models.QuerySet[User]":
        return self.filter(email=canonical_email(email))

    def with_username(self, username: str) -> "models.QuerySet[User]":
        return self.alias(username_lower=Lower("username")).filter(
            username_lower=Lower(Value(username.strip()))
        )

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return canonical_email(email or "")

    def get_by_natural_key(self, email: str):
        return self.with_email(email).get()

    def _create_user(self, email: str, username: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("Users must have an email address.")
        if not username:
            raise ValueError("Users must have a username.")
        user = self.model(email=self.normalize_email(email), username=username, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, username: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, username, password, **extra_fields)

    def create_superuser(self, email: str, username: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, username, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    # Always in canonical form (see apps.core.normalization), so plain uniqueness is the real rule.
    email = models.EmailField(
        "email address",
        max_length=254,
        unique=True,
        # Invisible characters would make a look-alike of another address (apps.core.validators).
        validators=[validate_visible_text],
        error_messages={"unique": "A user with that email already exists."},
    )
    username = models.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator(), validate_visible_text],
        help_text="150 characters or fewer: letters, digits and @ . + - _ only.",
    )
    full_name = models.CharField(max_length=150, blank=True, validators=[validate_visible_text])
    # E.164 ("+447700900123"); input without a country code is read in PHONE_DEFAULT_REGION. It
    # counts as the account's number (SMS go to it) only once phone_verified_at is set, which only
    # the verification flow does (apps/accounts/services/phone.py); any other change clears it.
    phone = PhoneNumberField(blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Unticked, the user can no longer sign in and their tokens stop working."
    )
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin site.")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    tokens_valid_after = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Tokens issued before this moment are refused: the last deactivation, password "
        "change or sign-out everywhere.",
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering = ["id"]
        permissions = [("manage_roles", "Can manage roles and assign them to users")]
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            # Unverified numbers may repeat (anyone can type any number); a verified one belongs
            # to one account.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(phone_verified_at__isnull=False),
                name="accounts_user_verified_phone_unique",
                violation_error_message="This phone number is already verified by another account.",
            ),
            models.CheckConstraint(
                condition=Q(phone_verified_at__isnull=True) | ~Q(phone=""),
                name="accounts_user_verified_phone_not_empty",
            ),
        ]
        indexes = [models.Index(fields=["date_joined"], name="accounts_user_joined_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_phone_verified(self) -> bool:
        return self.phone_verified_at is not None

    def clean(self):
        super().clean()
        self.email = canonical_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every way in (API, admin, createsuperuser, fixtures) stores the one canonical form.
        self.email = canonical_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username


class AuthSession(models.Model):
    """One sign-in: the refresh tokens rotated from one login and every access token they minted.

    Tokens name their session in the `sid` claim. Ending the session ends them all at once:
    the access tokens on their next request, the refresh tokens at their next rotation.
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout", "Signed out"
        LOGOUT_ALL = "logout_all", "Signed out everywhere"
        REFRESH_REUSE = "refresh_reuse", "A used refresh token was presented again"
        PASSWORD_CHANGE = "password_change", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        DEACTIVATED = "deactivated", "Account deactivated"
        ADMIN = "admin", "Ended by staff"
        EXPIRED = "expired", "Reached its maximum lifetime"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    user_agent = models.CharField(max_length=512, blank=True, editable=False)

    class Meta:
        verbose_name = "session"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "ended_at"], name="accounts_session_user_live_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | models.Q(ended_at__isnull=False) & ~models.Q(end_reason=""),
                name="accounts_session_ended_with_reason",
            )
        ]

    def __str__(self) -> str:
        return f"Session of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


# --- Two-factor sign-in ---------------------------------------------------------------------------------
class TwoFactorMethod(models.TextChoices):
    """The second factors a sign-in can be finished with."""

    TOTP = "totp", "Authenticator app"
    SMS = "sms", "Text message"
    RECOVERY = "recovery", "Recovery code"


class TwoFactor(models.Model):
    """A user's second factors; created at the first setup. Two-factor sign-in is on while a
    method is enabled.

    The TOTP secret is kept encrypted (apps.core.encryption): codes are checked against the secret
    itself, so a hash cannot do, and a copy of the table must not be a copy of everyone's app.
    `totp_last_step` is the time step of the last code accepted: no code of that step or an earlier
    one is accepted again (RFC 6238 section 5.2). `totp_pending_secret` is a setup awaiting its first
    code; the active secret, if any, stays in force until that code comes.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="two_factor")
    totp_secret = models.CharField(max_length=255, blank=True, editable=False)
    totp_pending_secret = models.CharField(max_length=255, blank=True, editable=False)
    totp_enabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    sms_enabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_method = models.CharField(
        max_length=16, choices=TwoFactorMethod.choices, blank=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "two-factor sign-in"
        verbose_name_plural = "two-factor sign-ins"
        constraints = [
            models.CheckConstraint(
                condition=Q(totp_enabled_at__isnull=True) | ~Q(totp_secret=""),
                name="accounts_two_factor_totp_on_has_secret",
            ),
            models.CheckConstraint(
                condition=Q(totp_last_step__isnull=True) | Q(totp_last_step__gte=0),
                name="accounts_two_factor_step_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Two-factor sign-in of {self.user_id}"

    @property
    def is_enabled(self) -> bool:
        return self.totp_enabled_at is not None or self.sms_enabled_at is not None

    @classmethod
    def enabled_for(cls, user_id: int) -> bool:
        """`is_enabled` of the user's row, in one query, without loading it."""
        on = Q(totp_enabled_at__isnull=False) | Q(sms_enabled_at__isnull=False)
        return cls.objects.filter(on, user_id=user_id).exists()


class RecoveryCode(models.Model):
    """One of the single-use codes that finish a sign-in when the phone is lost; kept as a keyed
    hash (apps.accounts.tokens.recovery_code_hash), shown once when made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="accounts_recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user_id}"


class TwoFactorChallenge(models.Model):
    """The state behind a sign-in's second step: the token the API calls `mfa_token`.

    The token is random, handed to the client once and kept here only as its SHA-256 (it is 256
    random bits: a fast hash is enough, and finds the row). It is not a JWT, so no authenticator of
    the API takes it for an access token. `purpose` says what it allows: finishing a sign-in with a
    code (`sign_in`), or, for staff who must turn two-factor sign-in on first, only the enrolment
    endpoints (`enrol`). It dies when used, at `expires_at`, or after MFA_TOKEN_MAX_ATTEMPTS codes.
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Finish a sign-in"
        ENROL = "enrol", "Turn on two-factor sign-in"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="two_factor_challenges")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    failures = models.PositiveSmallIntegerField(default=0, editable=False)
    sms_sent = models.PositiveSmallIntegerField(default=0, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "two-factor challenge"
        ordering = ["-created_at"]
        # Index names have at most 30 characters.
        indexes = [models.Index(fields=["user", "created_at"], name="accounts_challenge_user_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(failures__lte=models.F("attempts")), name="accounts_two_factor_challenge_failures"
            )
        ]

    def __str__(self) -> str:
        return f"Two-factor challenge of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.used_at is None and now < self.expires_at and self.attempts < settings.MFA_TOKEN_MAX_ATTEMPTS
        )


class SMSCode(models.Model):
    """A six-digit code texted to a phone, for every purpose: to verify a number being added, to
    finish a sign-in, to confirm a two-factor change, or to reset a password. One per user and
    purpose: asking again replaces it (a new row, so an SMS still queued for the old one finds
    nothing and is not sent). apps/accounts/services/sms_codes.py is its one owner.

    The code is made in the delivery task as the SMS goes out and kept only as an HMAC (see
    `apps.accounts.tokens.sms_code_hash` for why not a password hash). It is good for
    SMS_CODE_MINUTES from sending (PHONE_VERIFICATION_CODE_MINUTES for a phone verification) and,
    except for sign-in codes (whose tries count on their mfa_token), SMS_CODE_MAX_ATTEMPTS tries.
    A phone verification's number is the one being verified; every other code goes to the
    account's verified number.
    """

    class Purpose(models.TextChoices):
        PHONE_VERIFICATION = "phone_verification", "Verify a phone number"
        SIGN_IN = "sign_in", "Sign in"
        TWO_FACTOR_CHANGE = "two_factor_change", "Change two-factor sign-in"
        PASSWORD_RESET = "password_reset", "Reset the password"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sms_codes")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    challenge = models.ForeignKey(
        TwoFactorChallenge, on_delete=models.CASCADE, null=True, blank=True, related_name="sms_codes"
    )
    phone = PhoneNumberField(help_text="The number the code went to, in E.164.")
    # Empty until the SMS is sent: no code exists before that.
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Phone verifications had a table of their own until migration 0011 moved them here. A code
    # texted before that was hashed with that table's id, and an SMS still queued for it names that
    # id; both find the row by it. Empty on every row made since: once no row has one (codes live
    # minutes), this field and the branches that read it can go.
    legacy_verification_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "SMS code"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "purpose"], name="accounts_sms_code_one_per_purpose"),
            models.CheckConstraint(
                condition=Q(
                    challenge__isnull=True,
                    purpose__in=["phone_verification", "two_factor_change", "password_reset"],
                )
                | Q(challenge__isnull=False, purpose="sign_in"),
                name="accounts_sms_code_challenge_for_sign_in",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | ~Q(code_hash=""), name="accounts_sms_code_used_had_code"
            ),
            models.CheckConstraint(condition=~Q(phone=""), name="accounts_sms_code_has_phone"),
            models.CheckConstraint(
                condition=Q(legacy_verification_id__isnull=True) | Q(purpose="phone_verification"),
                name="accounts_sms_code_legacy_id_of_verification",
            ),
        ]

    def __str__(self) -> str:
        return f"SMS code ({self.purpose}) of {self.user_id}"


class AccountDeletion(models.Model):
    """An account its owner closed (`DELETE users/me/`): inactive at once, erased at `erase_after`
    (ACCOUNT_DELETION_GRACE_DAYS later) unless reactivated before; apps/accounts/services/deletion.py
    is its one owner.

    Reactivation deletes the row. Erasure keeps it, with `erased_at` set: the user row itself stays,
    anonymised, because bookings keep pointing at it for the other party's records.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="deletion")
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    erase_after = models.DateTimeField(editable=False, help_text="When the account is erased for good.")
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "account deletion"
        ordering = ["erase_after"]
        # The erasure sweep: pending deletions by due date.
        indexes = [
            models.Index(
                fields=["erase_after"], condition=Q(erased_at__isnull=True), name="accounts_deletion_due_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(erase_after__gte=models.F("requested_at")),
                name="accounts_deletion_erase_after_request",
            )
        ]

    def __str__(self) -> str:
        return f"Deletion of {self.user_id} ({'erased' if self.erased_at else 'pending'})"

    @property
    def is_pending(self) -> bool:
        return self.erased_at is None
