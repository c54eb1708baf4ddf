from django.db import models
from django.utils import timezone


class AuditLog(models.Model):
    """Who did what to which object, and what changed. Append-only."""

    # Plain ids: actors and targets live in the default database.
    actor_id = models.BigIntegerField(
        null=True, blank=True, help_text="The user who acted; empty for the system."
    )
    action = models.CharField(max_length=64, help_text="What happened, e.g. `user.login` or `role.update`.")
    target_type = models.CharField(max_length=100, blank=True, help_text="`app_label.model` of the target.")
    target_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text="Changed fields: {field: [before, after]}."
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="logs_audit_time_idx"),
            models.Index(fields=["actor_id", "-created_at"], name="logs_audit_actor_time_idx"),
            models.Index(fields=["action", "-created_at"], name="logs_audit_action_time_idx"),
            models.Index(fields=["target_type", "target_id"], name="logs_audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id or 'system'} on {self.target_type}:{self.target_id}"


class ApplicationLog(models.Model):
    """A WARNING-or-worse log record, kept for staff to read in the admin."""

    class Level(models.TextChoices):
        WARNING = "WARNING"
        ERROR = "ERROR"
        CRITICAL = "CRITICAL"

    level = models.CharField(max_length=10, choices=Level.choices)
    logger = models.CharField(max_length=200)
    message = models.TextField()
    module = models.CharField(max_length=200, blank=True)
    function = models.CharField(max_length=200, blank=True)
    traceback = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="logs_applog_time_idx"),
            models.Index(fields=["level", "-created_at"], name="logs_applog_level_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.logger}: {self.message[:80]}"
