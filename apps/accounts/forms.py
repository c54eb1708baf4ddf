from django.contrib.auth import forms as auth_forms

from apps.accounts.models import User
from apps.core.normalization import canonical_email


class CanonicalEmailMixin:
    """Canonicalise before the form's uniqueness check, which compares the stored form exactly:
    `ADA@example.com` must clash with `ada@example.com` here, not in the database."""

    def clean_email(self):
        return canonical_email(self.cleaned_data["email"])


class UserCreationForm(CanonicalEmailMixin, auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "username", "full_name")


class UserChangeForm(CanonicalEmailMixin, auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        cleaned_data = super().clean()
        if "phone" in self.changed_data:
            # Only its owner can verify a number. Cleared here, before the model's validation,
            # so the verified-number constraints judge the row as it will be saved.
            self.instance.phone_verified_at = None
        return cleaned_data
