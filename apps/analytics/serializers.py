from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core.fields import QueryIdField


class LoginStatsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)
    user = QueryIdField(required=False, help_text="Only this user's attempts (a user id).")


class LoginDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    total = serializers.IntegerField()
    successful = serializers.IntegerField()
    failed = serializers.IntegerField()


# One object, although the endpoint is a ViewSet's `list` (which the schema would make an array).
@extend_schema_serializer(many=False)
class LoginStatsSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    user = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField()
    successful = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="successful / total; null with no attempts."
    )
    series = LoginDaySerializer(many=True)
