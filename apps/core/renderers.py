"""The API's one JSON renderer: orjson, through drf-orjson-renderer.

DRF's renderer runs the standard library's encoder with a Python `default` hook for every object
it meets; orjson encodes dicts, lists, strings, numbers and datetimes in native code, several
times faster, which a list of a hundred rows pays for on every request. The output is the same
JSON: UTF-8 without escapes (DRF's `UNICODE_JSON`), compact, `Z` for UTC. What orjson does not
know natively (lazy translations, decimals, querysets, ...) goes through DRF's own encoder, which
raises for anything it does not know either, where the library's hook would answer `null`.
"""

import orjson
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class RenderedJSON(bytes):
    """A body that is JSON already (a cached answer): rendered as it is."""


class JSONRenderer(ORJSONRenderer):
    options = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    default = staticmethod(JSONEncoder().default)

    def render(self, data, media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, RenderedJSON):
            return bytes(data)
        # No view's context may swap the encoder hook for another (the library's opt-in).
        return super().render(data, media_type, {})
