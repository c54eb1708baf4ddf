"""Gunicorn's settings for every way the web process is started.

Gunicorn reads `./gunicorn.conf.py` by itself from the directory it starts in; docker/entrypoint.sh
starts it from the repository root (/app in the image) and names this file as well. Settings given
on the command line or in GUNICORN_CMD_ARGS win over these.
"""

# --- Request limits ---------------------------------------------------------------------------------
# Gunicorn refuses a longer request line (414), more header fields or a longer one (431) before
# Django sees the request, with a short HTML page of its own rather than the API's JSON error. The
# request line gets gunicorn's largest value (its default, 4094, cuts long catalog searches short);
# the header limits are gunicorn's defaults, written here so they are one documented decision. The
# TLS-terminating proxy in front should refuse first, with limits no larger (nginx's default
# `large_client_header_buffers 4 8k` is).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


# --- No Server header -------------------------------------------------------------------------------
# Gunicorn names itself in a `Server` header on every response and has no setting to leave it out
# (benoitc/gunicorn#825); the header tells a scanner which exploits to try and a client nothing.
def _without_server_header(default_headers):
    def headers(response):
        return [line for line in default_headers(response) if not line.lower().startswith("server:")]

    headers.drops_server_header = True
    return headers


def post_worker_init(worker):
    from gunicorn.http import wsgi

    if not getattr(wsgi.Response.default_headers, "drops_server_header", False):
        wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)
