"""The web process as gunicorn runs it, with gunicorn.conf.py: no `Server` header, bounded requests.

Starts a real gunicorn (one sync worker) in front of a tiny WSGI application, so the answers are
gunicorn's own and not the test client's.
"""

import http.client
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = "tests.config.gunicorn_app:application"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    port = _free_port()
    # No --config: gunicorn must find gunicorn.conf.py in the directory it starts in by itself.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", APP, "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stderr:
            if "Booting worker" in line:
                break
        else:
            pytest.fail("gunicorn did not start")
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(server, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    # The master listens before the worker boots, so an early connection waits in the backlog.
    connection = http.client.HTTPConnection(*server, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def test_gunicorn_reads_the_config_file_and_sends_no_server_header(server):
    response = _get(server, "/")
    assert response.status == 200
    assert response.getheader("Server") is None


def test_a_request_line_up_to_8190_bytes_reaches_the_application(server):
    path = "/?q=" + "a" * 8000  # gunicorn's default limit, 4094, would refuse it
    assert _get(server, path).status == 200


def test_a_longer_request_line_is_refused_by_gunicorn(server):
    assert _get(server, "/?q=" + "a" * 8200).status == 414


def test_more_than_100_header_fields_are_refused_by_gunicorn(server):
    headers = {f"X-Field-{number}": "1" for number in range(101)}
    assert _get(server, "/", headers).status == 431
