"""A WSGI application that answers 200 to everything, for tests/config/test_gunicorn.py."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
