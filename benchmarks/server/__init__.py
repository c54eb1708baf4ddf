"""Runs inside the gunicorn under test: the benchmark-only settings, URLs and floor views.

Production never imports this package: config/urls.py does not route the floor, and only the
benchmark passes DJANGO_SETTINGS_MODULE=benchmarks.server.settings.
"""
