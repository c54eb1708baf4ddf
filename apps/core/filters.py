from datetime import UTC

from django import forms
from django_filters import IsoDateTimeFilter, NumberFilter
from django_filters.fields import IsoDateTimeField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """Rejects datetimes that cannot be expressed in UTC (year 1 with a positive offset, say),
    which would otherwise fail deep inside the database driver."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError as exc:
                raise forms.ValidationError("This date and time is out of range.", code="invalid") from exc
        return value


class BoundedIsoDateTimeFilter(IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class IntegerFilter(NumberFilter):
    """A whole number: django-filter's NumberFilter takes decimals, so `?actor=0.5` would be a
    valid query that silently matches nothing."""

    field_class = forms.IntegerField
