from django.db import models
from django.utils import timezone


class LoginEvent(models.Model):
    """One sign-in attempt, successful or not. Append-only."""

    class Method(models.TextChoices):
        PASSWORD = "password", "Password (API)"
        ADMIN = "admin", "Password (admin site)"
        TOTP = "totp", "Authenticator code"
        SMS = "sms", "SMS code"
        RECOVERY = "recovery", "Recovery code"

    # A plain id: users live in the default database and no foreign key can cross databases.
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The user signed in, when one matched.")
    email = models.CharField("email tried", max_length=254, blank=True)
    success = models.BooleanField()
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.PASSWORD)
    mfa_pending = models.BooleanField(
        "second factor asked",
        default=False,
        help_text="The password was right and the sign-in went on to a second factor, whose own "
        "attempt is another event. Left out of the login statistics, which count each sign-in once.",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="analytics_login_user_time_idx"),
            models.Index(fields=["-created_at"], name="analytics_login_time_idx"),
            models.Index(fields=["email", "-created_at"], name="analytics_login_email_time_idx"),
        ]

    def __str__(self) -> str:
        outcome = "succeeded" if self.success else "failed"
        return f"Login {outcome} for {self.email or self.user_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"
