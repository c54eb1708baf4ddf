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


class _UniqueCaseInsensitive:
    """Field-level check that `field` is free, ignoring case (the database has the final word)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        self.requires_context = True

    def __call__(self, value, serializer_field):
        instance = getattr(serializer_field.parent, "instance", None)
        others = User.objects.exclude(pk=instance.pk) if instance is not None else User.objects.all()
        if others.filter(**{f"{self.field}__iexact": value}).exists():
            raise serializers.ValidationError(self.message)


email_is_free = _UniqueCaseInsensitive("email", _("A user with that email already exists."))
username_is_free = _UniqueCaseInsensitive("username", _("A user with that username already exists."))


class RegisterSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, max_length=128)

    class Meta:
        model = User
        fields = ["email", "username", "password", "full_name"]
        extra_kwargs = {
            "email": {"validators": [email_is_free]},
            "username": {"validators": [UnicodeUsernameValidator(), username_is_free]},
            "full_name": {"required": False},
        }


class ProfileUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["full_name", "username", "phone"]
        extra_kwargs = {"username": {"validators": [UnicodeUsernameValidator(), username_is_free]}}


class StaffUserUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["full_name", "username", "phone", "is_active"]
        extra_kwargs = {"username": {"validators": [UnicodeUsernameValidator(), username_is_free]}}


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
