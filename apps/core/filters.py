from datetime import UTC

from django import forms
from django_filters import IsoDateTimeFilter
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
