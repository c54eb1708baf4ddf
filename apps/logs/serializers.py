from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core import fields
from apps.logs.models import AuditLog


@extend_schema_serializer(
    description="One audited change: who did what to which object, with the fields it changed."
)
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
