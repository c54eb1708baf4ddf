"""Serializer fields and a ModelSerializer base that take exactly the JSON type the schema names,
and the datetime formatting of read serializers that render rows by hand (`DatetimeTextMixin`).

DRF's CharField quietly turns a number into text (`0` -> `"0"`), so a client that sends the wrong
type gets a 2xx and a value it never meant, while the OpenAPI schema promises a string. Every text
field of the API uses these instead: the wrong type is a 400 naming the field.
"""

import re
from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class StringOnlyMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The schema's maxLength counts the text as sent; DRF counts it after trimming whitespace
        # (control characters such as \x1d included), which would let padded input past the limit.
        max_length = getattr(self, "max_length", None)
        if max_length is not None and len(data) > max_length:
            self.fail("max_length", max_length=max_length)
        return super().to_internal_value(data)


class CharField(StringOnlyMixin, serializers.CharField):
    pass


class EmailField(StringOnlyMixin, serializers.EmailField):
    pass


class SlugField(StringOnlyMixin, serializers.SlugField):
    pass


class BooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: DRF also takes 1, 0, "yes", "on" and friends."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, with the model's text and boolean fields mapped to the strict ones."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
        models.BooleanField: BooleanField,
    }


class IntegerField(serializers.IntegerField):
    """A JSON integer only: DRF also takes "5", 5.0 and true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# The largest bigint: every primary key (DEFAULT_AUTO_FIELD) and PostgreSQL's bigint column.
MAX_ID = 2**63 - 1


class IdField(IntegerField):
    """A row's id in a request body: a JSON integer from 1 to 2**63 - 1. A larger one, passed on
    to the database, fails there (a 500) instead of being a 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class QueryIdField(serializers.IntegerField):
    """A row's id in a query string (text, `?user=7`): 1 to 2**63 - 1, else a 400 naming it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


# ASCII digits with an optional fraction: what a client means by a decimal. Python's Decimal()
# also reads "1_000", " 5 ", "+5", "1e3" and digits of other scripts ("٩٩").
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class DecimalField(serializers.DecimalField):
    """A decimal as a JSON string of ASCII digits ("19.99"), as the schema says, so no float
    rounding is involved.

    DRF hands the text to `Decimal()`, which also reads "1_000", " 5 ", "1e3" and digits of other
    scripts ("٩٩"): values a client never meant to send as a price. Those are refused with a
    message that says what is expected, as is a JSON number.
    """

    default_error_messages = {
        "not_a_string": _('Send the value as a string, such as "9.99".'),
        "not_plain": _('Use digits with an optional decimal point, such as "9.99".'),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not DECIMAL_TEXT.fullmatch(data):
            self.fail("not_plain")
        return super().to_internal_value(data)


_DATETIME = serializers.DateTimeField()


def _drf_datetime_text(value: datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def datetime_formatter() -> Callable[[datetime | None], str | None]:
    """A function answering what `serializers.DateTimeField()` answers for a datetime (ISO 8601 in
    the current time zone, `Z` for UTC), for read serializers that render rows by hand.

    DRF's field reads its settings, checks awareness and looks up the current time zone on every
    call. The lookup alone (an asgiref `Local`) costs as much as formatting the value, and a page
    of users formats up to eighty datetimes. The formatter reads the settings and the time zone
    once, when it is made. Anything but an aware datetime with the ISO format set takes DRF's own
    path, so the output is DRF's whatever the settings.
    """
    output_format = api_settings.DATETIME_FORMAT
    if not settings.USE_TZ or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return _drf_datetime_text
    zone = timezone.get_current_timezone()

    def datetime_text(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return _DATETIME.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return datetime_text


class DatetimeTextMixin:
    """For a read serializer that renders by hand: `self.datetime_text(value)`, made once per
    serializer. A list's rows share one child serializer, so a page reads the time zone once,
    and a serializer lives for one request, so it never outlives a time zone's activation."""

    @cached_property
    def datetime_text(self) -> Callable[[datetime | None], str | None]:
        return datetime_formatter()
