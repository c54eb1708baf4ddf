"""Serializer fields and a ModelSerializer base that take exactly the JSON type the schema names,
and `datetime_text` for read serializers that render rows by hand.

DRF's CharField quietly turns a number into text (`0` -> `"0"`), so a client that sends the wrong
type gets a 2xx and a value it never meant, while the OpenAPI schema promises a string. Every text
field of the API uses these instead: the wrong type is a 400 naming the field.
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class StringOnlyMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(StringOnlyMixin, serializers.CharField):
    pass


class EmailField(StringOnlyMixin, serializers.EmailField):
    pass


class SlugField(StringOnlyMixin, serializers.SlugField):
    pass


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, with the model's text fields mapped to the string-only fields."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
    }


class BooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: DRF also takes 1, 0, "yes", "on" and friends."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class IntegerField(serializers.IntegerField):
    """A JSON integer only: DRF also takes "5", 5.0 and true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecimalField(StringOnlyMixin, serializers.DecimalField):
    """A decimal as a JSON string ("19.99"), as the schema says, so no float rounding is involved."""


_DATETIME = serializers.DateTimeField()


def datetime_text(value: datetime | None) -> str | None:
    """What `serializers.DateTimeField()` answers for an aware datetime (ISO 8601 in the current
    time zone, `Z` for UTC), for read serializers that render rows by hand.

    DRF's field reads its settings and checks awareness on every call: three datetimes a row made
    it a tenth of a user list's CPU. Anything but an aware datetime with the ISO format set takes
    DRF's own path, so the output is DRF's whatever the settings.
    """
    if value is None:
        return None
    if value.tzinfo is None or not settings.USE_TZ or api_settings.DATETIME_FORMAT.lower() != ISO_8601:
        return _DATETIME.to_representation(value)
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
