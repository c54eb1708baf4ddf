"""OpenAPI: every operation documents the errors it can return, all in the one `Error` shape.

Which errors an operation declares follows from what it is, not from per-view annotations:

- 400 for anything that reads input: a body, query parameters, or a write (DELETE included: a
  write can be refused, e.g. deactivating yourself through the staff endpoint);
- 401 everywhere (bad or missing credentials), 403 unless the operation is public;
- 404 for anything with an id in its path, and for page-numbered lists (a page past the end);
- 413 and 415 for anything that takes a body (too large, not JSON);
- 429 where a throttle applies.

Filter parameters are documented with `allowEmptyValue`: like django-filter, an empty value
means "not filtered". Every other parameter, when given, must be valid.

A 4xx/5xx a view declares itself (409 "already verified", say) gets the `Error` body too.

The schema is read by client generators and by strict OpenAPI 3.0 validators, so it says what the
server actually takes and sends:

- `security: []` where no authenticator runs at all (sign-in, refresh), `{}` first where a token is
  optional (the public catalog reads);
- path ids are integers (a `lookup_value_regex` of digits included), from 1 to the largest the
  regex or a bigint holds;
- filters are typed from their form fields (integers with their bounds, decimals as decimal
  strings with their limits), `ordering` lists its values;
- a clock time rendered `HH:MM` is a pattern, not `format: time` (which wants seconds);
- a nullable object or enum is a `oneOf` with a null branch: `allOf` + `nullable` lets no null
  through a strict validator, since `nullable` does not reach into the referenced schema;
- no docstring becomes a description (DISABLE_DOCSTRING_DESCRIPTIONS: they are written for
  developers); what clients read is given by `extend_schema` and `extend_schema_serializer`.
"""

import re

from django import forms
from django.core import validators
from drf_spectacular import openapi
from drf_spectacular.plumbing import build_media_type_object, force_instance, get_class
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from apps.core.exceptions import ERROR_CODES
from apps.core.fields import DECIMAL_TEXT
from apps.core.filters import DecimalTextField

_CODE_DESCRIPTION = "Stable machine-readable error code:\n\n" + "\n".join(
    f"- `{code}` ({status}): {meaning}" for code, (status, meaning) in ERROR_CODES.items()
)


@extend_schema_field({"type": "string", "enum": list(ERROR_CODES)})
class ErrorCodeField(serializers.CharField):
    """An error code; the schema enumerates ERROR_CODES, so an undocumented code breaks the contract."""


class ErrorSerializer(serializers.Serializer):
    code = ErrorCodeField(help_text=_CODE_DESCRIPTION)
    message = serializers.CharField(help_text="Human-readable explanation.")
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=(
            "Validation errors keyed by field name (`non_field_errors` for the object as a whole); "
            "a nested field or a list item by its dotted path, e.g. `address.city`, `permissions.1`."
        ),
    )
    request_id = serializers.CharField(allow_null=True, help_text="The X-Request-ID of the request.")

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    "400": "Invalid input: `validation_error` with `field_errors` (parameters by name), or `parse_error`.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Authenticated but not allowed to do this.",
    "404": "Not found, or not yours; for a page-numbered list, a page past the last one.",
    "413": "The body is too large.",
    "415": "The body is not JSON.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
    "503": "`query_timeout`: the query ran past the server's time limit; narrow it down or retry.",
}
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A database id: a bigint. A `lookup_value_regex` of digits caps it further, e.g. `[0-9]{1,18}`.
BIGINT_MAX = 2**63 - 1
_DIGITS_REGEX = re.compile(r"^\^?\[0-9\]\{1,(\d+)\}\$?$")
# What the server sends for a `HH:MM` clock time; `format: time` would want `09:00:00`.
CLOCK_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
NULL = {"nullable": True, "enum": [None]}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if not self.view.get_authenticators():
            operation["security"] = []  # no authenticator runs: a token is never read here
        for parameter in operation.get("parameters", ()):
            if parameter["in"] == "path":
                parameter["schema"] = _path_id_schema(parameter["schema"])
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.startswith(("4", "5")) and "content" not in response:
                response["content"] = self._get_response_for_code(ErrorSerializer, code)["content"]
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict) -> list[str]:
        takes_body = "requestBody" in operation
        reads_query = any(parameter["in"] == "query" for parameter in operation.get("parameters", ()))
        codes = []
        if takes_body or reads_query or self.method in _WRITES:
            codes.append("400")
        # 401 stays for public endpoints too: wrong credentials, bad tokens.
        codes.append("401")
        if not self._is_public():
            codes.append("403")
        if "{" in self.path or self._is_page_numbered_list():
            codes.append("404")
        if takes_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        if getattr(self.view, "action", None) in getattr(self.view, "timeout_actions", ()):
            codes.append("503")  # run under apps.core.query_timeout.statement_timeout
        return codes

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        filters = getattr(getattr(self.view, "filterset_class", None), "base_filters", {})
        for parameter in parameters:
            # Filters read the query string like an HTML form: `?is_active=` means "no filter".
            parameter["allowEmptyValue"] = True
            if parameter["name"] in filters:
                # The form field as the filter declares it, without django-filter's 1e50 cap on
                # numbers (a float: it lets 10**50 + 1 through).
                declared = filters[parameter["name"]]
                field = declared.field_class(**declared.extra)
                parameter["schema"] = _form_field_schema(field, parameter["schema"])
                if limits := _decimal_limits(field):
                    parameter["description"] = f"{parameter.get('description', '')} {limits}".strip()
            elif parameter["name"] == api_settings.ORDERING_PARAM:
                self._document_ordering(parameter)
            schema = parameter.get("schema", {})
            if schema.get("type") == "boolean":
                # A choice filter on a boolean field comes out as `enum: ["false", "true"]`, strings
                # no boolean can equal: a contract nothing satisfies. The type says it all.
                schema.pop("enum", None)
        return parameters

    def _document_ordering(self, parameter: dict) -> None:
        backend = next(
            (backend() for backend in self.view.filter_backends if issubclass(backend, OrderingFilter)), None
        )
        if backend is None:
            return
        context = {"request": self.view.request}
        fields = [
            name for name, _label in backend.get_valid_fields(self.view.get_queryset(), self.view, context)
        ]
        # `?ordering=price,-name`: a comma-separated list, each a field or `-field` (descending).
        values = [term for field in fields for term in (field, f"-{field}")]
        parameter["schema"] = {"type": "array", "items": {"type": "string", "enum": values}}
        parameter["style"], parameter["explode"] = "form", False
        parameter["description"] = (
            "Sort by these fields, comma-separated, in order of precedence; `-` before a field sorts "
            "it descending. Anything else is a 400."
        )

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and getattr(field, "format", None) == "%H:%M":
            schema = {key: value for key, value in schema.items() if key != "format"}
            schema["pattern"] = CLOCK_TIME_PATTERN
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer):
            # drf-spectacular cannot tell: required when every alternative has a required field.
            required = all(
                any(field.required for field in force_instance(alternative).fields.values())
                for alternative in serializer.serializers
            )
        return schema, required

    def _is_page_numbered_list(self) -> bool:
        return (
            self.method == "GET"
            and self._is_list_view()
            and isinstance(self._get_paginator(), pagination.PageNumberPagination)
        )

    def _is_public(self) -> bool:
        if getattr(self.view, "action", None) in getattr(self.view, "public_actions", ()):
            return True
        return all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def get_auth(self):
        auth = [requirement for requirement in super().get_auth() if requirement != {}]
        if self._is_public():
            # A token is optional here; first, so that a client generator does not demand one.
            auth.insert(0, {})
        return auth

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        # drf-spectacular never documents a DELETE body, but some deletes take one (closing your
        # account needs your password). Keep a body the view declares with extend_schema(request=…);
        # the serializer inferred from `serializer_class` says nothing about a DELETE.
        declared = self.get_request_serializer()
        inferred = openapi.AutoSchema.get_request_serializer(self)
        if declared is None or get_class(declared) is get_class(inferred):
            return None
        content, required = {}, True
        for media_type in self.map_parsers():
            schema, media_type_required = self._get_request_for_media_type(declared, direction)
            if schema is not None:
                content[media_type] = build_media_type_object(schema)
                required &= media_type_required
        if not content:
            return None
        return {"content": content, "required": True} if required else {"content": content}


def _path_id_schema(schema: dict) -> dict:
    if schema.get("type") == "integer":
        maximum = BIGINT_MAX
    elif schema.get("type") == "string" and (digits := _DIGITS_REGEX.match(schema.get("pattern", ""))):
        maximum = min(BIGINT_MAX, 10 ** int(digits[1]) - 1)
    else:
        return schema
    return {"type": "integer", "minimum": 1, "maximum": maximum}


def _form_field_schema(field: forms.Field, schema: dict) -> dict:
    """The schema of a filter's form field, where drf-spectacular's guess (from the model field or
    `number`) says less than what the form takes."""
    if isinstance(field, forms.DecimalField):  # before IntegerField: a DecimalField is one
        # A string, as a client must send it to keep every digit; the limits are in the
        # description. A pattern only where the field holds to it: a plain DecimalField takes all
        # that Python's Decimal reads (`+5`, `1e2`).
        schema = {"type": "string", "format": "decimal"}
        if isinstance(field, DecimalTextField):
            schema["pattern"] = f"^{DECIMAL_TEXT.pattern}$"
        return schema
    if isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        low, high = _bounds(field)
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
    return schema


def _decimal_limits(field: forms.Field) -> str:
    if not isinstance(field, forms.DecimalField) or field.decimal_places is None:
        return ""
    low, high = _bounds(field)
    low = "any" if low is None else f"{low}"
    high = "any" if high is None else f"{high}"
    return f"A decimal string from {low} to {high}, with at most {field.decimal_places} decimal places."


def _bounds(field: forms.Field) -> tuple:
    """The tightest minimum and maximum among a form field's validators (min_value and max_value
    are validators too)."""
    lows = [v.limit_value for v in field.validators if isinstance(v, validators.MinValueValidator)]
    highs = [v.limit_value for v in field.validators if isinstance(v, validators.MaxValueValidator)]
    return max(lows, default=None), min(highs, default=None)


def postprocess_nullable_references(result, generator, request, public):
    """`allOf: [$ref]` + `nullable: true` (how drf-spectacular writes a nullable nested object or
    enum) becomes `oneOf: [$ref, null]`: OpenAPI 3.0's `nullable` does not reach into a referenced
    schema, so a strict validator refuses the null the server sends."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("nullable") and len(node.get("allOf", ())) == 1:
                node["oneOf"] = [node.pop("allOf")[0], dict(NULL)]
                del node["nullable"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
