from datetime import UTC

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters import IsoDateTimeFilter, NumberFilter, TypedChoiceFilter
from django_filters import rest_framework as rest_framework_filters
from django_filters.fields import IsoDateTimeField
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError

from apps.core.fields import DECIMAL_TEXT, MAX_ID

MIN_ID = 1
BIGINT_MIN = -(2**63)


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, handed on as the same instant in UTC; the one field of every
    datetime filter (`DateTimeFilter`).

    Python takes UTC offsets up to ±23:59 and PostgreSQL only up to ±15:59, so `+16:00` passed on
    as it came failed inside the database driver (a 500). In UTC every instant Python can hold fits
    PostgreSQL; one that UTC cannot hold (year 1 with a positive offset, 9999-12-31 with a negative
    one) is a 400, as is a year outside 1..9999, which the parser refuses. With `require_offset`,
    a time without its offset is a 400 as well: without one, whose midnight would it be?
    """

    def __init__(self, *args, require_offset: bool = False, **kwargs):
        self.require_offset = require_offset
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        if self.require_offset and isinstance(value, str) and not _has_offset(value):
            raise forms.ValidationError("Give the time with its UTC offset (Z or +01:00).", code="invalid")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("This date and time is out of range.", code="invalid") from exc


def _has_offset(text: str) -> bool:
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return False
    return parsed is not None and parsed.tzinfo is not None


class DateTimeFilter(IsoDateTimeFilter):
    """Every datetime filter of the API: `BoundedIsoDateTimeField` (any offset, compared in UTC;
    out of range a 400). `require_offset=True` refuses a time given without its offset."""

    field_class = BoundedIsoDateTimeField


# The name it had before it was the only one.
BoundedIsoDateTimeFilter = DateTimeFilter


class BoundedIntegerField(forms.IntegerField):
    """A whole number within PostgreSQL's bigint unless the filter narrows it: a larger one passed
    on to the database (`?user=18446744073709551616`) failed there, a 500."""

    def __init__(self, *args, min_value=None, max_value=None, **kwargs):
        min_value = BIGINT_MIN if min_value is None else max(min_value, BIGINT_MIN)
        max_value = MAX_ID if max_value is None else min(max_value, MAX_ID)
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class IntegerFilter(NumberFilter):
    """A whole number within bigint's range: django-filter's NumberFilter takes decimals, so
    `?actor=0.5` would be a valid query that silently matches nothing, and any size."""

    field_class = BoundedIntegerField


class IdFilter(IntegerFilter):
    """A row's id (bigint keys): 1 to 2**63 - 1, anything else a 400 naming the parameter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class DecimalTextField(forms.DecimalField):
    """A decimal in a query string as the API's bodies take one (`DECIMAL_TEXT`): `?min_price=1e2`,
    `+5` or `1_000` are a 400 naming the parameter, as they are in a body, not a quiet match."""

    default_error_messages = {"not_plain": _('Use digits with an optional decimal point, such as "9.99".')}

    def to_python(self, value):
        if isinstance(value, str) and value and not DECIMAL_TEXT.fullmatch(value):
            raise forms.ValidationError(self.error_messages["not_plain"], code="not_plain")
        return super().to_python(value)


class DjangoFilterBackend(rest_framework_filters.DjangoFilterBackend):
    """django-filter's backend, skipped when no query parameter is one of the FilterSet's.

    Building the FilterSet and its form costs about 0.2 ms of CPU on every list request, to filter
    nothing. A parameter counts as the FilterSet's when it starts with a filter's name (range
    widgets read `<name>_min`, `<name>_after` and the like); those requests go through it, its
    validation errors included.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(param.startswith(names) for param in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class SearchFilter(drf_filters.SearchFilter):
    """DRF's `search`, skipped when the query has no `search` parameter.

    DRF builds and runs a serializer field over the (absent) term on every list request, to
    find that there is nothing to search for.
    """

    def filter_queryset(self, request, queryset, view):
        if self.search_param not in request.query_params:
            return queryset
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(drf_filters.OrderingFilter):
    """DRF's `ordering`, with an unknown or disallowed field a 400 naming it.

    DRF drops the fields it does not know and silently serves the default order, so a client's
    typo looks like a working sort. The view's `ordering` always ends in a unique column, so that
    equal sort keys (two products at one price) still page in a stable order. A queryset already
    in the order asked for is left as it is: re-ordering it would clone the query for nothing.
    """

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering or (tuple(ordering) == queryset.query.order_by and not queryset.query.extra_order_by):
            return queryset
        return queryset.order_by(*ordering)

    def get_ordering(self, request, queryset, view):
        params = request.query_params.getlist(self.ordering_param)
        if not params or params == [""]:
            return self.get_default_ordering(view)
        allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        fields = [term.strip() for term in ",".join(params).split(",") if term.strip()]
        unknown = [term for term in fields if term.lstrip("-") not in allowed]
        if unknown or not fields:
            raise ValidationError(
                {
                    self.ordering_param: [
                        "Unknown ordering field: {}. Allowed: {}.".format(
                            ", ".join(unknown) or "(none)", ", ".join(sorted(allowed))
                        )
                    ]
                }
            )
        if "id" in {term.lstrip("-") for term in fields}:
            return fields
        return fields + [term for term in (self.get_default_ordering(view) or ()) if term.lstrip("-") == "id"]


BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


def boolean_filter(**kwargs) -> TypedChoiceFilter:
    """`true` or `false`, anything else a 400: django-filter's BooleanFilter quietly ignores
    `?in_stock=maybe`, answering everything as though no filter had been asked for."""
    return TypedChoiceFilter(choices=BOOLEAN_CHOICES, coerce=lambda value: value == "true", **kwargs)
