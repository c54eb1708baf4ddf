"""One row per message per channel: what was asked for, what was sent, and how it went.

A `Notification` is created `queued` in the transaction of the change that caused it and moves
`queued -> sending -> sent` (or `failed`) under a row lock in the delivery task, so the row is
both the outbox (nothing is lost when the broker is down at commit time: the sweep finds it) and
the guard (a task that runs twice finds the row no longer queued and sends nothing).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    IN_APP = "in_app", "In-app"


class Category(models.TextChoices):
    """What a message is about; preferences are kept per category and channel."""

    ACCOUNT = "account", "Account"
    BOOKINGS = "bookings", "Bookings"
    CATALOG = "catalog", "Catalog"
    MARKETING = "marketing", "Marketing"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    Status = DeliveryStatus

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    key = models.CharField(max_length=64, help_text="Which message: its templates and its rules.")
    category = models.CharField(max_length=16, choices=Category.choices)
    # Where it went: an email address or an E.164 number, fixed when the message was asked for.
    address = models.CharField(max_length=254, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="The template variables asked for.")
    # As sent, except that one-time links and codes are masked: the table never holds a secret.
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # One event cannot queue a message twice: e.g. "booking:42:reminder:sms".
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    next_attempt_at = models.DateTimeField(help_text="When a queued message is due (retries wait).")
    sending_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notification_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="notification_category_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="notification_status_known"
            ),
            models.CheckConstraint(condition=~Q(key=""), name="notification_key_not_empty"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notification_sent_has_sent_at"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(sending_since__isnull=False),
                name="notification_sending_has_since",
            ),
            models.CheckConstraint(
                condition=Q(read_at__isnull=True) | Q(channel="in_app", status="sent"),
                name="notification_only_delivered_in_app_is_read",
            ),
        ]
        indexes = [
            # A user's in-app inbox, newest first, and its unread count.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(channel="in_app", status="sent"),
                name="notification_inbox",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(channel="in_app", status="sent", read_at__isnull=True),
                name="notification_unread",
            ),
            # The sweep: rows still queued or sending, by when they were due.
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="notification_pending",
            ),
            models.Index(fields=["key", "status"], name="notification_key_status"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_channel_display()}) to {self.recipient_id}: {self.status}"


class NotificationPreference(TimeStampedModel):
    """A user's choice for one category on one channel. No row: the category's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category", "channel"], name="preference_unique"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="preference_channel_known"),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="preference_category_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.category}/{self.channel} {'on' if self.enabled else 'off'}"


class SMSTemplate(TimeStampedModel):
    """The text of one SMS, editable by staff. `{{ name }}` marks a variable."""

    key = models.SlugField(max_length=64, unique=True)
    body = models.TextField(max_length=640, help_text="Up to four SMS segments; {{ variable }} for values.")
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True, help_text="An inactive template fails its messages.")

    class Meta:
        ordering = ["key"]
        verbose_name = "SMS template"
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="sms_template_body_not_empty"),
        ]

    def __str__(self) -> str:
        return self.key
