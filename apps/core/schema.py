"""OpenAPI: every operation documents the errors it can return, all in the one `Error` shape."""

from drf_spectacular import openapi
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable error code, e.g. `validation_error`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors keyed by field name (`non_field_errors` for the object as a whole).",
    )
    request_id = serializers.CharField(allow_null=True, help_text="The X-Request-ID of the request.")

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    "400": "Invalid input; see `field_errors`.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Authenticated but not allowed to do this.",
    "404": "Not found, or not yours.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("400")
        # 401 stays for public endpoints too: wrong credentials, bad tokens.
        codes.append("401")
        if not self._is_public():
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _is_public(self) -> bool:
        if getattr(self.view, "action", None) in getattr(self.view, "public_actions", ()):
            return True
        return all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def get_auth(self):
        auth = super().get_auth()
        if self._is_public() and {} not in auth:
            auth.append({})  # a token is optional here
        return auth

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = _DESCRIPTIONS[code]
        return responses
