"""How lists are paged, one rule for both kinds of page.

`page` and `page_size`, when given, must be positive integers (and given once), or the answer is a
400 `validation_error` naming the parameter: DRF would quietly fall back to the defaults, which
hides a client's bug behind a plausible page. A `page_size` above 100 is served as 100: asking for
"everything" is not a mistake worth failing. A `page` past the last one is a 404 `not_found`. A
cursor this server did not hand out is a 400 like any other malformed parameter (DRF answers 404
"Invalid cursor", as though the list had gone).
"""

from datetime import UTC, datetime
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 100
NOT_A_POSITIVE_INTEGER = "A positive integer is required."


def _positive_int(request, name: str) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    value = values[-1]
    if len(values) > 1 or not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValueError(name)
    return int(value)


def positive_int_params(request, *names: str) -> dict[str, int | None]:
    """The query parameters `names` as positive integers (None when absent), or one 400 naming
    every malformed one."""
    values, errors = {}, {}
    for name in names:
        try:
            values[name] = _positive_int(request, name)
        except ValueError:
            errors[name] = [NOT_A_POSITIVE_INTEGER]
    if errors:
        raise ValidationError(errors)
    return values


class _StrictPageSize:
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Results per page, at most {MAX_PAGE_SIZE} (more is served as {MAX_PAGE_SIZE})."
    )
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        requested = positive_int_params(request, self.page_size_query_param)[self.page_size_query_param]
        return self.page_size if requested is None else min(requested, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_size_query_param, getattr(self, "page_query_param", None)):
                parameter["schema"]["minimum"] = 1
        return parameters


class PageNumberPagination(_StrictPageSize, pagination.PageNumberPagination):
    """DRF's `count/next/previous/results`, with a client-chosen page size capped at 100."""

    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    last_page_strings = ()  # `page` is a number, as the schema says; no `page=last`

    def paginate_queryset(self, queryset, request, view=None):
        positive_int_params(request, self.page_query_param, self.page_size_query_param)
        return super().paginate_queryset(queryset, request, view)


class CursorPagination(_StrictPageSize, pagination.CursorPagination):
    """For large append-only tables (events, audit trail): stable pages without a COUNT(*)."""

    page_size = 50
    ordering = "-created_at"

    def paginate_queryset(self, queryset, request, view=None):
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(queryset, self.get_ordering(request, queryset, view), cursor.position)
        return super().paginate_queryset(queryset, request, view)

    def _check_position(self, queryset, ordering, position: str) -> None:
        # A cursor is only base64: anyone can forge one whose position ("p=yesterday", year 9999 at
        # UTC-1) fails or overflows deep in the database driver. Still the client's malformed cursor.
        field = queryset.model._meta.get_field(ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)
            if isinstance(value, datetime) and value.tzinfo is not None:
                value.astimezone(UTC)
        except (DjangoValidationError, OverflowError) as exc:
            raise self._invalid_cursor() from exc

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            raise self._invalid_cursor()  # DRF would read it as "the first page"
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise self._invalid_cursor() from exc

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


class StreamPagination(PageNumberPagination):
    """Pages of a sorted stream worked out on demand (the free slots of many providers): `page` and
    `page_size` as for every list, and `next/previous/results` without a `count`, so that a page
    costs the items up to its end rather than the whole stream. A page past the last is a 404."""

    def paginate_queryset(self, queryset, request, view=None):
        number = positive_int_params(request, self.page_query_param)[self.page_query_param] or 1
        size = self.get_page_size(request)
        self.request, self.number = request, number
        items = list(islice(queryset, (number - 1) * size, number * size + 1))
        self.more = len(items) > size
        if not items and number > 1:
            raise NotFound(self.invalid_page_message.format(page_number=number, message=""))
        return items[:size]

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        if not self.more:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"].pop("count")
        described["required"] = ["results"]
        return described
