"""Explicit fields only: a client reads its in-app messages and sets its preferences, nothing else."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core import fields
from apps.notifications.models import Category, Channel, Notification


@extend_schema_serializer(description="An in-app message.")
class NotificationSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    """An in-app message as its recipient reads it."""

    id = serializers.IntegerField(read_only=True)
    key = serializers.CharField(read_only=True, help_text="Which message, e.g. `low_stock`.")
    category = serializers.ChoiceField(choices=Category.choices, read_only=True)
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        ref_name = "Notification"

    def to_representation(self, notification: Notification) -> dict:
        return {
            "id": notification.pk,
            "key": notification.key,
            "category": notification.category,
            "subject": notification.subject,
            "body": notification.body,
            "created_at": self.datetime_text(notification.created_at),
            "read_at": self.datetime_text(notification.read_at),
        }


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many messages were unread.")

    class Meta:
        ref_name = "ReadAllResult"


class ChannelPreferencesSerializer(serializers.Serializer):
    email = fields.BooleanField(required=False)
    sms = fields.BooleanField(required=False)
    in_app = fields.BooleanField(required=False)


@extend_schema_serializer(
    description="For each category of message, whether it goes out by each channel. Sign-in codes, reset "
    "links and address confirmations are sent whatever these say."
)
class PreferencesSerializer(serializers.Serializer):
    """{category: {channel: enabled}}. A PATCH names only what changes; an unknown name is a 400.

    Transactional messages (sign-in codes, reset links, email confirmations) are sent whatever
    these say: they answer something the user just asked for.
    """

    account = ChannelPreferencesSerializer(required=False)
    bookings = ChannelPreferencesSerializer(required=False)
    catalog = ChannelPreferencesSerializer(required=False)
    marketing = ChannelPreferencesSerializer(required=False)

    def validate(self, attrs):
        # DRF drops names it does not know; a misspelt category or channel must not pass as done.
        unknown = []
        for category, value in self.initial_data.items():
            if category not in self.fields:
                unknown.append(category)
            elif isinstance(value, dict):
                unknown += [f"{category}.{channel}" for channel in value if channel not in Channel.values]
        if unknown:
            raise serializers.ValidationError({name: ["Unknown category or channel."] for name in unknown})
        return attrs

    class Meta:
        ref_name = "NotificationPreferences"
