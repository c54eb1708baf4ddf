"""Fixtures shared by the whole suite."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.db import connections
from model_bakery import baker
from rest_framework.test import APIClient

DEFAULT_PASSWORD = "correct-horse-battery-staple"


def _flush_postgresql_by_delete() -> None:
    """After each `transaction=True` test Django empties every table of each database the test
    used with one `TRUNCATE` of them all. On PostgreSQL a TRUNCATE gives every table new files
    (a second or more for the default database on a busy machine) where a DELETE of the few rows
    a test leaves takes milliseconds; the tables end up as empty either way, sequences untouched
    by both. Foreign keys are checked at commit (Django creates them DEFERRABLE INITIALLY
    DEFERRED), so the order of the DELETEs does not matter. The cases that need what only
    TRUNCATE does (resetting sequences, cascading to tables outside the flush) keep it.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # The names are the models' own tables, quoted.
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]  # noqa: S608
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]

    DatabaseOperations.sql_flush = sql_flush


_flush_postgresql_by_delete()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Throttle counters and cached permissions must not leak from one test into the next,
    # also when the cache is a real Redis shared by the whole run.
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    from apps.notifications import sms

    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _side_databases_available() -> Iterator[None]:
    # A test that took a side database down must not leave the others skipping its writes.
    from apps.core import fail_soft

    fail_soft.reset()
    yield
    fail_soft.reset()


@pytest.fixture(autouse=True)
def _fresh_log_budgets() -> Iterator[None]:
    # The database log handler's per-cause budget must not carry records over between tests.
    from apps.logs.handlers import limiter

    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture(scope="session")
def _served_openapi_schema(django_db_setup, django_db_blocker) -> dict:
    # Generating the schema walks every view: once per test process is enough.
    import yaml
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.fixture
def openapi_schema(_served_openapi_schema) -> dict:
    """The OpenAPI schema `/api/schema/` serves, parsed; each test gets its own copy."""
    return copy.deepcopy(_served_openapi_schema)


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


def grant(user, *permissions: str):
    """Give `user` the named permissions (`app_label.codename`) directly."""
    from django.contrib.auth.models import Permission

    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    # Django caches a user's permissions on the instance; start afresh.
    for cache_attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache_attr, None)
    return user


@pytest.fixture
def make_user(db):
    """`make_user("accounts.view_user", email=...)`: an active user with a known password."""
    from apps.accounts.models import User

    counter = iter(range(1, 10_000))

    def make(*permissions: str, password: str = DEFAULT_PASSWORD, **fields):
        n = next(counter)
        fields.setdefault("email", f"person{n}@example.com")
        fields.setdefault("username", f"person{n}")
        user = User.objects.create_user(password=password, **fields)
        return grant(user, *permissions)

    return make


@pytest.fixture
def api():
    """`api(user)`: a client carrying a real JWT access token for `user`; `api()`: anonymous."""
    from rest_framework_simplejwt.tokens import AccessToken

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client

    return make


@pytest.fixture
def sign_in(db):
    """`sign_in(user)`: a real session of `user` and its first `{"access", "refresh"}` pair."""
    from apps.accounts.services import session_start

    return lambda user: session_start(user=user)


@pytest.fixture
def token_answers():
    """`token_answers(tokens)`: the statuses `users/me/` with the access token and a refresh
    with the refresh token get, as `{"access": 200, "refresh": 401}`."""

    def answers(tokens: dict) -> dict:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        access = client.get("/api/v1/users/me/").status_code
        refresh = APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
        )
        return {"access": access, "refresh": refresh.status_code}

    return answers


@pytest.fixture
def count_queries():
    """`count_queries(fn)`: how many queries `fn()` runs on the default database in steady state.

    `fn` runs once before counting, so per-process caches (a user's permission set) are warm
    and two calls that differ only in page size can be compared.
    """
    from django.test.utils import CaptureQueriesContext

    def count(fn) -> int:
        fn()
        with CaptureQueriesContext(connections["default"]) as context:
            fn()
        return len(context.captured_queries)

    return count


def pytest_generate_tests(metafunc):
    """Give every test of an EndpointPermissionTests class one run per listed endpoint."""
    endpoints = getattr(metafunc.cls, "endpoints", None)
    if endpoints and "endpoint" in metafunc.fixturenames:
        applies = getattr(metafunc.function, "applies_to", lambda endpoint: True)
        chosen = [endpoint for endpoint in endpoints if applies(endpoint)]
        metafunc.parametrize("endpoint", chosen, ids=[endpoint.id for endpoint in chosen])
