"""No overlapping active bookings, and no overlapping working hours, on PostgreSQL only.

An exclusion constraint refuses a row whose values conflict with an existing row's under the given
operators: here an equal provider (or customer) and overlapping `[start, end)` ranges, among
pending and confirmed bookings. `btree_gist` lets the GiST index compare the plain id column with
`=`. A conflicting INSERT waits for the transaction holding the other row and then fails (or
succeeds, if that one rolled back), so concurrent requests for one slot can never both win.
Back-to-back bookings do not overlap: `[)` ranges that touch share no instant.

SQLite has no such constraint; there the service checks inside the write transaction, which
SQLite serialises. These constraints are therefore not in the models' Meta (every database builds
those) but added here, by name, for PostgreSQL alone.
"""

import datetime

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models
from django.db.models.functions import Cast

ACTIVE = models.Q(status__in=["pending", "confirmed"])


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class TsRange(models.Func):
    function = "TSRANGE"
    output_field = models.DateTimeField()


def _on_a_day(column: str):
    """A wall-clock time as a timestamp on a fixed day, so that times can form a range."""
    day = Cast(models.Value(datetime.date(2000, 1, 3)), models.DateField())
    return models.ExpressionWrapper(day + models.F(column), output_field=models.DateTimeField())


def constraints():
    return {
        "booking": [
            ExclusionConstraint(
                name="bookings_booking_provider_no_overlap",
                expressions=[
                    ("provider", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=ACTIVE,
            ),
            ExclusionConstraint(
                name="bookings_booking_customer_no_overlap",
                expressions=[
                    ("customer", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=ACTIVE,
            ),
        ],
        "workinghours": [
            ExclusionConstraint(
                name="bookings_hours_no_overlap",
                expressions=[
                    ("provider", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TsRange(_on_a_day("start"), _on_a_day("end"), RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
        ],
    }


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, model_constraints in constraints().items():
        model = apps.get_model("bookings", model_name)
        for constraint in model_constraints:
            schema_editor.add_constraint(model, constraint)


def remove_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, model_constraints in constraints().items():
        model = apps.get_model("bookings", model_name)
        for constraint in model_constraints:
            schema_editor.remove_constraint(model, constraint)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),  # does nothing on other databases
        migrations.RunPython(add_constraints, remove_constraints, elidable=False),
    ]
