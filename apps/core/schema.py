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
"""

from drf_spectacular import openapi
from drf_spectacular.plumbing import build_media_type_object, get_class
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.permissions import AllowAny

from apps.core.exceptions import ERROR_CODES

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


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
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
        for parameter in parameters:
            # Filters read the query string like an HTML form: `?is_active=` means "no filter".
            parameter["allowEmptyValue"] = True
            schema = parameter.get("schema", {})
            if schema.get("type") == "boolean":
                # A choice filter on a boolean field comes out as `enum: ["false", "true"]`, strings
                # no boolean can equal: a contract nothing satisfies. The type says it all.
                schema.pop("enum", None)
        return parameters

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
        auth = super().get_auth()
        if self._is_public() and {} not in auth:
            auth.append({})  # a token is optional here
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
