"""The API's JSON renderer writes what DRF's would, through orjson."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from apps.core.renderers import JSONRenderer, RenderedJSON


def render(data) -> bytes:
    return JSONRenderer().render(data, "application/json")


def test_it_writes_the_same_json_as_drf():
    data = {"name": "Zoë", "count": 3, "price": Decimal("19.99"), "tags": ["a", None], "ok": True}
    assert json.loads(render(data)) == json.loads(DRFJSONRenderer().render(data))


def test_text_is_utf8_without_escapes_and_compact():
    assert render({"name": "Zoë ✓"}) == '{"name":"Zoë ✓"}'.encode()


def test_lazy_translations_are_text_and_a_bare_decimal_a_number_as_drf_writes_them():
    # Serializers send prices as strings; a Decimal that reaches the renderer itself is a number.
    assert json.loads(render({"message": gettext_lazy("Not found."), "price": Decimal("1.50")})) == {
        "message": "Not found.",
        "price": 1.5,
    }


def test_utc_datetimes_end_in_z():
    assert render({"at": datetime(2026, 12, 2, 6, 0, tzinfo=UTC)}) == b'{"at":"2026-12-02T06:00:00Z"}'


def test_an_object_it_cannot_encode_is_an_error_not_a_null():
    with pytest.raises(TypeError):
        render({"thing": object()})


def test_a_body_rendered_already_passes_through_untouched():
    assert render(RenderedJSON(b'{"cached": true}')) == b'{"cached": true}'


def test_no_data_is_an_empty_body():
    assert render(None) == b""
