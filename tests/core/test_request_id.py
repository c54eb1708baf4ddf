import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.logging import JsonFormatter, RequestIdFilter
from apps.core.middleware import RequestIdMiddleware
from apps.core.request_context import current_request_id

pytestmark = pytest.mark.urls("tests.core.urls")


def test_every_response_carries_a_generated_request_id(client):
    response = client.get("/health/")
    assert len(response["X-Request-ID"]) == 32


def test_a_well_formed_incoming_request_id_is_kept(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="edge-7f3a:42")
    assert response["X-Request-ID"] == "edge-7f3a:42"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "<script>", "line\nbreak"])
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/health/", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_log_lines_written_during_a_request_carry_its_id(caplog):
    def view(request):
        logging.getLogger("apps.probe").warning("inside the request")
        return HttpResponse("ok")

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="apps.probe"):
        RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="trace-1"))

    assert [record.request_id for record in caplog.records if record.name == "apps.probe"] == ["trace-1"]
    assert current_request_id() is None, "the id must not leak into the next request on this thread"


def test_json_log_lines_include_the_request_id():
    record = logging.LogRecord("apps.probe", logging.ERROR, __file__, 1, "boom %s", ("x",), None)
    record.request_id = "trace-2"
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-2"
    assert line["message"] == "boom x"
    assert line["level"] == "ERROR"
