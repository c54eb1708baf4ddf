"""Fixtures shared by the whole suite."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import connections
from model_bakery import baker
from rest_framework.test import APIClient

DEFAULT_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Throttle counters and cached permissions must not leak from one test into the next,
    # also when the cache is a real Redis shared by the whole run.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return baker.make("accounts.User", email="ada@example.com", username="ada", full_name="Ada Lovelace")


@pytest.fixture
def superuser(db):
    from apps.accounts.models import User

    return User.objects.create_superuser("root@example.com", "root", DEFAULT_PASSWORD)


@contextmanager
def unreachable_database(alias: str) -> Iterator[None]:
    """Point a database alias at a server that is not there, then put it back.

    Use it in `transaction=True` tests: opening a connection resets the connection's
    transaction state, which a test wrapped in a transaction cannot survive.
    """
    connection = connections[alias]
    saved_settings = dict(connection.settings_dict)
    saved_connection = connection.connection
    connection.connection = None
    if connection.vendor == "postgresql":
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": "1"})  # nothing listens on port 1
    else:
        connection.settings_dict["NAME"] = "/nonexistent-directory/unreachable.sqlite3"
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved_settings)
        connection.connection = saved_connection


@pytest.fixture
def database_down():
    """`with database_down("logs"): ...` makes that database unreachable inside the block."""
    return unreachable_database
