"""The before and after of an audited change, taken one way for every app.

An audit entry's `changes` is `{field: [before, after]}` of JSON values. A service takes a
`snapshot` of the fields it may change, makes the change, and hands `changes` the snapshot and the
object (or a second snapshot) to `diff`: what differs is the entry's `changes`. So an entry reads the same
whichever app wrote it:

- a foreign key is the id it stores (read without a query for the related row); a many-to-many
  field, or any collection, is the sorted list of its members' ids or values;
- a decimal is its text (`"9.90"`): a float would not keep the digits;
- a date, time or datetime is ISO 8601, as the API writes it;
- anything else with a text form (a phone number: E.164) is that text.

Secret fields are redacted later, by `apps.logs.services.audit`.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models


def json_value(value: Any) -> Any:
    """`value` as the audit trail stores it (see the module docstring)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set | frozenset):
        return sorted(json_value(item) for item in value)
    return str(value)


def _field_value(obj: models.Model, name: str) -> Any:
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:  # a property
        return getattr(obj, name)
    if field.many_to_many:
        return getattr(obj, name).all()
    if isinstance(field, models.Field) and (field.many_to_one or field.one_to_one):
        return getattr(obj, field.attname)  # the stored id: no query for the related row
    return getattr(obj, name)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of `obj`'s `fields`, in their order."""
    return {name: json_value(_field_value(obj, name)) for name in fields}


def diff(
    before: Mapping[str, Any], after: models.Model | Mapping[str, Any], fields: Iterable[str] | None = None
) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for each field whose value differs between `before` and `after`.

    `after` is an object (its `fields` are read with `snapshot`) or a snapshot already taken. A
    field `before` does not hold was None: `diff({}, created)` lists what a new object holds,
    and `diff(gone, dict.fromkeys(gone))` what a deleted one held.
    """
    if isinstance(after, models.Model):
        after = snapshot(after, before.keys() if fields is None else fields)
    elif fields is not None:
        after = {name: after[name] for name in fields}
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}
