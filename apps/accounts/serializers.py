"""Explicit fields only: nothing a client sends can reach is_staff, is_superuser, is_active
(except through the staff serializer), email_verified_at or roles."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    """An account as its owner and staff see it."""

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "full_name",
            "phone",
            "is_active",
            "email_verified_at",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


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


class RegisterSerializer(UniqueUsernameMixin, serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, max_length=128)

    class Meta:
        model = User
        fields = ["email", "username", "password", "full_name"]
        extra_kwargs = {
            "email": {"validators": []},  # uniqueness, ignoring case: validate_email
            "username": {"validators": [UnicodeUsernameValidator()]},
            "full_name": {"required": False},
        }

    def validate_email(self, value: str) -> str:
        if User.objects.with_email(value).exists():
            raise serializers.ValidationError(_("A user with that email already exists."))
        return value


class ProfileUpdateSerializer(UniqueUsernameMixin, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["full_name", "username", "phone"]
        extra_kwargs = {"username": {"validators": [UnicodeUsernameValidator()]}}


class StaffUserUpdateSerializer(UniqueUsernameMixin, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["full_name", "username", "phone", "is_active"]
        extra_kwargs = {"username": {"validators": [UnicodeUsernameValidator()]}}


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`; short-lived.")
    refresh = serializers.CharField(help_text="Exchange at auth/token/refresh/ for a new pair; single use.")


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class EmailVerifySerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class PasswordConfirmSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)
