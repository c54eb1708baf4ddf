"""Explicit fields only: nothing a client sends can reach is_staff, is_superuser, is_active
(except through the staff serializer), email_verified_at, phone_verified_at or roles."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from phonenumber_field import serializerfields
from rest_framework import serializers

from apps.accounts.models import AuthSession, TwoFactorMethod, User
from apps.accounts.selectors import USER_FIELDS
from apps.accounts.services import PHONE_ONLY_BY_VERIFICATION
from apps.accounts.tokens import PHONE_CODE_DIGITS
from apps.core import fields
from apps.core.schema import ErrorSerializer
from apps.core.validators import validate_visible_text


class PhoneNumberField(fields.StringOnlyMixin, serializerfields.PhoneNumberField):
    """A phone number given as text, with its country code or as a national number of
    PHONE_DEFAULT_REGION; validated with libphonenumber, answered as a PhoneNumber."""


@extend_schema_serializer(description="An account, as its owner and staff see it.")
class UserSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    """An account as its owner and staff see it. Read-only, and a plain Serializer on purpose:
    a ModelSerializer introspects the model to build its fields on every request, which cost
    more than the rows themselves on a detail or `users/me/`."""

    id = serializers.IntegerField(read_only=True)
    email = fields.EmailField(read_only=True)
    username = fields.CharField(read_only=True)
    full_name = fields.CharField(read_only=True)
    phone = fields.CharField(
        read_only=True,
        help_text="E.164, e.g. `+447911123456`; empty when none. Text messages go to it only once "
        "it is verified (`phone_verified_at`).",
    )
    is_active = serializers.BooleanField(read_only=True)
    email_verified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    phone_verified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    date_joined = serializers.DateTimeField(read_only=True)
    last_login = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        ref_name = "User"

    def to_representation(self, user: User | dict) -> dict:
        # By hand, with DRF's datetime format: its field-by-field loop cost twice as much, and
        # this runs for every row of every user list. Touching self.fields would deep-copy them.
        # A list or detail hands in rows of selectors.user_rows_for_display(), anything else a User.
        if isinstance(user, dict):
            row = user
        else:
            row = {name: getattr(user, name) for name in USER_FIELDS}
            row["phone_text"] = str(user.phone)
        return {
            "id": row["id"],
            "email": row["email"],
            "username": row["username"],
            "full_name": row["full_name"],
            "phone": row["phone_text"],  # the stored E.164 text: no parse per row
            "is_active": row["is_active"],
            "email_verified_at": self.datetime_text(row["email_verified_at"]),
            "phone_verified_at": self.datetime_text(row["phone_verified_at"]),
            "date_joined": self.datetime_text(row["date_joined"]),
            "last_login": self.datetime_text(row["last_login"]),
        }


class UniqueUsernameMixin:
    """Field-level "is it free?" checks, ignoring case; the database constraint has the final word.

    They live in validate_<field>, which DRF runs only once the field's own validators passed:
    a value with a NUL byte must never reach a query.
    """

    def validate_username(self, value: str) -> str:
        taken = User.objects.with_username(value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A user with that username already exists."))
        return value


# The model field's own, which the serializers below restate to leave out DRF's uniqueness check.
USERNAME_VALIDATORS = [UnicodeUsernameValidator(), validate_visible_text]


ADDRESS_OF_A_CLOSED_ACCOUNT = _(
    "This address belongs to a closed account that is waiting to be erased. Until then it can be "
    "opened again: ask for a link at auth/reactivate/. Once it is erased, the address is free."
)


@extend_schema_serializer(description="A new account: `full_name` may be left out.")
class RegisterSerializer(UniqueUsernameMixin, fields.ModelSerializer):
    password = fields.CharField(write_only=True, style={"input_type": "password"}, max_length=128)

    class Meta:
        model = User
        fields = ["email", "username", "password", "full_name"]
        extra_kwargs = {
            # Uniqueness, ignoring case: validate_email.
            "email": {"validators": [validate_visible_text]},
            "username": {"validators": USERNAME_VALIDATORS},
            "full_name": {"required": False},
        }

    def validate_email(self, value: str) -> str:
        # As before, a taken address is named taken; a closed account's address says how to come back.
        holder = (
            User.objects.with_email(value)
            .values_list("pk", "deletion__requested_at", "deletion__erased_at")
            .first()
        )
        if holder is not None and holder[1] is not None and holder[2] is None:
            raise serializers.ValidationError(ADDRESS_OF_A_CLOSED_ACCOUNT)
        if holder is not None:
            raise serializers.ValidationError(_("A user with that email already exists."))
        return value


class ProfileUpdateSerializer(UniqueUsernameMixin, fields.ModelSerializer):
    # Only "" (no number): a number counts once its owner proved they hold it, so adding or
    # changing one is `POST users/me/phone/` and its code. maxLength 0 says so in the schema.
    phone = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=0,
        help_text='Only "", to remove your number. To add or change it, POST it to `users/me/phone/`.',
        error_messages={"max_length": PHONE_ONLY_BY_VERIFICATION},
    )

    class Meta:
        model = User
        fields = ["full_name", "username", "phone"]
        extra_kwargs = {"username": {"validators": USERNAME_VALIDATORS}}


class StaffUserUpdateSerializer(UniqueUsernameMixin, fields.ModelSerializer):
    # Staff may correct a number, which leaves it unverified: only its owner can verify one.
    phone = PhoneNumberField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="With its country code, or a national number of the default region; stored in "
        "E.164. A changed number is unverified.",
    )

    class Meta:
        model = User
        fields = ["full_name", "username", "phone", "is_active"]
        extra_kwargs = {"username": {"validators": USERNAME_VALIDATORS}}


EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
# A refresh token of this project is well under 1 KiB; anything far longer is not one.
TOKEN_MAX_LENGTH = 4096


class LoginSerializer(serializers.Serializer):
    email = fields.EmailField(max_length=EMAIL_MAX_LENGTH)
    password = fields.CharField(style={"input_type": "password"}, max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = fields.CharField(help_text="Send as `Authorization: Bearer <access>`; short-lived.")
    refresh = fields.CharField(help_text="Exchange at auth/token/refresh/ for a new pair; single use.")


class RefreshSerializer(serializers.Serializer):
    refresh = fields.CharField(max_length=TOKEN_MAX_LENGTH)

    class Meta:
        ref_name = "TokenRefresh"


class PasswordChangeSerializer(serializers.Serializer):
    old_password = fields.CharField(max_length=128, trim_whitespace=False)
    new_password = fields.CharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = fields.EmailField(max_length=EMAIL_MAX_LENGTH)

    class Meta:
        ref_name = "PasswordResetByEmail"


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = fields.CharField(max_length=64)
    token = fields.CharField(max_length=128)
    new_password = fields.CharField(max_length=128, trim_whitespace=False)

    class Meta:
        ref_name = "PasswordResetByLink"


class EmailVerifySerializer(serializers.Serializer):
    uid = fields.CharField(max_length=64)
    token = fields.CharField(max_length=128)


class PasswordConfirmSerializer(serializers.Serializer):
    password = fields.CharField(max_length=128, trim_whitespace=False)


class EmailChangeSerializer(serializers.Serializer):
    new_email = fields.EmailField(max_length=EMAIL_MAX_LENGTH, validators=[validate_visible_text])
    password = fields.CharField(max_length=128, trim_whitespace=False, help_text="Your current password.")


class EmailChangeConfirmSerializer(serializers.Serializer):
    token = fields.CharField(max_length=TOKEN_MAX_LENGTH, help_text="The `token` of the emailed link.")


# --- Leaving and coming back ---------------------------------------------------------------------------
class AccountReactivationSerializer(serializers.Serializer):
    email = fields.EmailField(max_length=EMAIL_MAX_LENGTH, help_text="The address of the closed account.")


class AccountReactivationConfirmSerializer(serializers.Serializer):
    token = fields.CharField(max_length=TOKEN_MAX_LENGTH, help_text="The `token` of the emailed link.")


class PersonalDataExportSerializer(serializers.Serializer):
    """The shape of `GET users/me/export/` (answered as built, for the schema only). Lists are
    newest first, at most `max_rows` each; `truncated` names those that had more."""

    exported_at = serializers.DateTimeField()
    max_rows = serializers.IntegerField()
    truncated = serializers.ListField(child=serializers.CharField())
    profile = serializers.DictField()
    roles = serializers.ListField(child=serializers.CharField())
    sessions = serializers.ListField(child=serializers.DictField())
    two_factor = serializers.DictField()
    phone = serializers.DictField()
    deletion = serializers.DictField(allow_null=True)
    notifications = serializers.ListField(child=serializers.DictField())
    notification_preferences = serializers.ListField(child=serializers.DictField())
    audit_trail = serializers.ListField(child=serializers.DictField())
    login_events = serializers.ListField(child=serializers.DictField())
    bookings = serializers.DictField(help_text="`as_customer` and `as_provider`: lists of bookings.")
    provider = serializers.DictField(allow_null=True, help_text="The provider profile and working hours.")


# --- Phone numbers --------------------------------------------------------------------------------------
class CodeField(fields.StringOnlyMixin, serializers.RegexField):
    pass


CURRENT_CODE_HELP = (
    "Needed while two-factor sign-in is on: a current code of a factor that is on (the "
    "authenticator app's, one texted by `auth/2fa/sms/code/` while text message codes are on, or a "
    "recovery code, which it uses up)."
)


class PhoneChangeSerializer(serializers.Serializer):
    phone = PhoneNumberField(
        max_length=64,
        help_text="The number to verify: with its country code (`+44 20 7946 0958`), or a national "
        "number of the server's default region.",
    )
    password = fields.CharField(max_length=128, trim_whitespace=False, help_text="Your current password.")
    code = fields.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text=CURRENT_CODE_HELP
    )


class PhoneChangePendingSerializer(serializers.Serializer):
    phone = fields.CharField(read_only=True, help_text="The number the code is on its way to, in E.164.")


class PhoneVerifySerializer(serializers.Serializer):
    code = CodeField(
        rf"^[0-9]{{{PHONE_CODE_DIGITS}}}$",
        max_length=PHONE_CODE_DIGITS,
        min_length=PHONE_CODE_DIGITS,
        help_text="The six digits of the text message.",
        error_messages={"invalid": _("Enter the six digits of the code.")},
    )


# --- Two-factor sign-in ---------------------------------------------------------------------------------
METHODS_HELP = "`totp` (authenticator app), `sms` (a texted code), `recovery` (a recovery code)."
CHALLENGE_TOKEN_HELP = "From `auth/login/`; good for 5 minutes and 5 codes, and for nothing else."  # noqa: S105

# The API spells two-factor `mfa` (`mfa_token`, `mfa_required`, the components `MFA…`): published to
# clients, so the field names and `ref_name`s keep that spelling while the code says two-factor.


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^[a-z2-9]{5}-[a-z2-9]{5}$", "example": "k7m2p-xq9ha"},
        "minItems": 10,
        "maxItems": 10,
    }
)
class RecoveryCodesField(serializers.ListField):
    """Ten codes of two groups of five (`recovery_code_make`): the schema says so to clients."""

    child = fields.CharField()


class TwoFactorMethodsField(serializers.ListField):
    child = serializers.ChoiceField(choices=TwoFactorMethod.choices)


class TwoFactorRequiredSerializer(serializers.Serializer):
    mfa_required = fields.BooleanField(help_text="Always true: the sign-in needs a second factor.")
    mfa_token = fields.CharField(
        help_text="Send it with a code to `auth/login/verify/`. " + CHALLENGE_TOKEN_HELP
    )
    methods = TwoFactorMethodsField(help_text="What the code may be: " + METHODS_HELP)

    class Meta:
        ref_name = "MFARequired"


class TwoFactorEnrolmentRequiredSerializer(ErrorSerializer):
    mfa_token = fields.CharField(
        help_text="Send as `Authorization: MFA <mfa_token>` to `auth/2fa/totp/setup/` and "
        "`auth/2fa/totp/confirm/`, which then answers the token pair. 5 minutes, 5 codes."
    )
    enrol_at = fields.CharField(help_text="Where to start: `/api/v1/auth/2fa/totp/setup/`.")

    class Meta:
        ref_name = "MFAEnrolmentRequired"


class ChallengeTokenSerializer(serializers.Serializer):
    mfa_token = fields.CharField(max_length=TOKEN_MAX_LENGTH, help_text=CHALLENGE_TOKEN_HELP)

    class Meta:
        ref_name = "MFAToken"


class SignInVerifySerializer(serializers.Serializer):
    mfa_token = fields.CharField(max_length=TOKEN_MAX_LENGTH, help_text=CHALLENGE_TOKEN_HELP)
    code = fields.CharField(
        max_length=32,
        help_text="The authenticator app's six digits, the six digits texted by `auth/login/sms/`, "
        "or a recovery code (`k7m2p-xq9ha`; case, spaces and the dash do not matter).",
    )

    class Meta:
        ref_name = "MFAVerify"


class TOTPCodeSerializer(serializers.Serializer):
    code = CodeField(
        r"^[0-9]{6}$",
        max_length=6,
        min_length=6,
        help_text="The six digits the authenticator app shows now.",
        error_messages={"invalid": _("Enter the six digits of the code.")},
    )


class TOTPConfirmSerializer(TOTPCodeSerializer):
    password = fields.CharField(
        max_length=128,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your current password; needed unless the call carries an enrolment mfa_token, "
        "whose sign-in proved it.",
    )
    current_code = fields.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text=CURRENT_CODE_HELP
    )


class SMSCodeSerializer(serializers.Serializer):
    code = CodeField(
        rf"^[0-9]{{{PHONE_CODE_DIGITS}}}$",
        max_length=PHONE_CODE_DIGITS,
        min_length=PHONE_CODE_DIGITS,
        help_text="The six digits texted by `auth/2fa/sms/code/`.",
        error_messages={"invalid": _("Enter the six digits of the code.")},
    )


class SMSEnableSerializer(SMSCodeSerializer):
    password = fields.CharField(max_length=128, trim_whitespace=False, help_text="Your current password.")
    current_code = fields.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed while the authenticator app is on: its current code, or a recovery code.",
    )


class TOTPSetupSerializer(serializers.Serializer):
    secret = fields.CharField(help_text="Base32; for typing into an app that cannot scan the QR code.")
    provisioning_uri = fields.CharField(help_text="The `otpauth://totp/...` URI the QR code holds.")
    qr_code = fields.CharField(help_text="The QR code as an SVG `data:` URI, ready for an `<img src>`.")


class TwoFactorStatusSerializer(serializers.Serializer):
    enabled = fields.BooleanField(help_text="Whether sign-in asks for a second factor.")
    methods = TwoFactorMethodsField(help_text="What a sign-in can be finished with now: " + METHODS_HELP)
    totp_enabled_at = serializers.DateTimeField(allow_null=True)
    sms_enabled_at = serializers.DateTimeField(
        allow_null=True, help_text="Codes go to the verified `phone`; without one, `sms` is not offered."
    )
    recovery_codes_left = serializers.IntegerField(min_value=0, max_value=10)
    last_used_at = serializers.DateTimeField(allow_null=True)
    last_used_method = serializers.ChoiceField(choices=TwoFactorMethod.choices, allow_null=True)
    required = fields.BooleanField(
        help_text="Staff accounts must have it on to sign in (`REQUIRE_2FA_FOR_STAFF`)."
    )

    class Meta:
        ref_name = "TwoFactorStatus"


RECOVERY_CODES_HELP = "Ten single-use codes, shown this once: each finishes one sign-in without the phone."


class TwoFactorEnabledSerializer(serializers.Serializer):
    status = TwoFactorStatusSerializer()
    recovery_codes = RecoveryCodesField(
        required=False,
        help_text=RECOVERY_CODES_HELP + " Present when the account had none.",
    )
    access = fields.CharField(required=False, help_text="Only when confirmed with an enrolment mfa_token.")
    refresh = fields.CharField(required=False, help_text="Only when confirmed with an enrolment mfa_token.")


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = RecoveryCodesField(help_text=RECOVERY_CODES_HELP)


class TwoFactorDisableSerializer(serializers.Serializer):
    password = fields.CharField(max_length=128, trim_whitespace=False, help_text="Your current password.")
    code = fields.CharField(
        max_length=32,
        help_text="A current code: the authenticator app's, one texted by `auth/2fa/sms/code/`, or a "
        "recovery code.",
    )


class NewRecoveryCodesSerializer(TwoFactorDisableSerializer):
    """New recovery codes are a way past the second step: the same proof as turning it off."""


# --- Password reset by SMS --------------------------------------------------------------------------------
class PasswordResetByPhoneSerializer(serializers.Serializer):
    phone = PhoneNumberField(max_length=64, help_text="The account's verified number.")


class PasswordResetByCodeSerializer(serializers.Serializer):
    phone = PhoneNumberField(max_length=64, help_text="The number the code was texted to.")
    code = CodeField(
        rf"^[0-9]{{{PHONE_CODE_DIGITS}}}$",
        max_length=PHONE_CODE_DIGITS,
        min_length=PHONE_CODE_DIGITS,
        help_text="The six digits of the `password_reset_code` text.",
        error_messages={"invalid": _("Enter the six digits of the code.")},
    )
    new_password = fields.CharField(max_length=128, trim_whitespace=False)


class EndReasonField(serializers.ChoiceField):
    """A session's end reason, null while it is live: stored as "", which is not one of the
    choices the schema names."""

    def to_representation(self, value: str) -> str | None:
        return value or None


@extend_schema_serializer(description="One sign-in and the tokens rotated from it, as recorded at its start.")
class SessionSerializer(fields.ModelSerializer):
    end_reason = EndReasonField(
        choices=AuthSession.EndReason.choices,
        allow_null=True,
        read_only=True,
        help_text="Why it ended; null while it is live.",
    )
    current = serializers.SerializerMethodField(
        help_text="Whether the token of this request belongs to this session."
    )

    class Meta:
        model = AuthSession
        fields = [
            "id",
            "created_at",
            "last_refreshed_at",
            "ended_at",
            "end_reason",
            "ip",
            "user_agent",
            "current",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "created_at": {"help_text": "The sign-in."},
            "last_refreshed_at": {"help_text": "The latest token refresh; null before the first."},
            "ended_at": {"help_text": "Null while the session is live."},
            "ip": {"help_text": "The client's address at sign-in."},
            "user_agent": {"help_text": "The client's User-Agent at sign-in."},
        }

    def get_current(self, session: AuthSession) -> bool:
        return session.pk == self.context.get("current_session_id")
