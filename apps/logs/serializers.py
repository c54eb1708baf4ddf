from rest_framework import serializers

from apps.core import fields
from apps.logs.models import AuditLog


class AuditLogSerializer(fields.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "target_type",
            "target_id",
            "changes",
            "ip",
            "request_id",
        ]
        read_only_fields = fields
