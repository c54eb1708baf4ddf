"""A ceiling on how long the database may work for one request: `statement_timeout(ms)`.

Inside the block every statement on the connection is cancelled by PostgreSQL after `ms`
milliseconds (`SET LOCAL statement_timeout` in a transaction of the block's own, so the limit
ends with it and never leaks into the next request on a pooled connection). A cancelled
statement is a 503 `query_timeout` in the API's error shape, never a 500. Other databases (the
embedded SQLite default) have no such setting: the block runs unbounded there.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connections, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class QueryTimeout(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("This query took too long and was stopped; narrow it down, or try again later.")
    default_code = "query_timeout"


def _cancelled(exc: OperationalError) -> bool:
    # psycopg's QueryCanceled, which Django wraps; SQLSTATE 57014 whatever the driver's class name.
    return getattr(exc.__cause__, "sqlstate", None) == "57014"


@contextmanager
def statement_timeout(milliseconds: int, *, using: str = "default") -> Iterator[None]:
    connection = connections[using]
    if connection.vendor != "postgresql" or milliseconds <= 0:
        yield
        return
    # Inside an outer transaction the block is a savepoint, and a SET LOCAL outlives a released
    # savepoint: the setting before it is put back when the block ends. (A failed block's savepoint
    # is rolled back, which undoes the SET by itself.)
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(using=using):
            previous = _set_timeout(connection, f"{int(milliseconds)}ms", read_previous=nested)
            yield
            if nested:
                _set_timeout(connection, previous, read_previous=False)
    except OperationalError as exc:
        if _cancelled(exc):
            raise QueryTimeout() from exc
        raise


def _set_timeout(connection, value: str, *, read_previous: bool) -> str | None:
    # set_config(..., true) is SET LOCAL, with the value as a bound parameter. The setting before
    # it comes back in the same round trip: the MATERIALIZED CTE is read before set_config runs.
    with connection.cursor() as cursor:
        if not read_previous:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [value])
            return None
        cursor.execute(
            "WITH previous AS MATERIALIZED (SELECT current_setting('statement_timeout') AS value) "
            "SELECT value, set_config('statement_timeout', %s, true) FROM previous",
            [value],
        )
        return cursor.fetchone()[0]
