"""Dated exceptions to the weekly hours; on PostgreSQL, no two of a provider's cover one day.

The exclusion constraint compares inclusive date ranges (`[start_date, end_date]`) of one provider,
as migration 0002 does for bookings; SQLite has none, and there the service's check under the
profile lock holds the rule alone.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import migrations, models


class DateRange(models.Func):
    function = "DATERANGE"
    output_field = models.DateField()


def _no_overlap() -> ExclusionConstraint:
    return ExclusionConstraint(
        name="bookings_exception_no_overlap",  # apps/bookings/constraints.py
        expressions=[
            ("provider", RangeOperators.EQUAL),
            (
                DateRange("start_date", "end_date", RangeBoundary(inclusive_upper=True)),
                RangeOperators.OVERLAPS,
            ),
        ],
    )


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_constraint(apps.get_model("bookings", "scheduleexception"), _no_overlap())


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_constraint(apps.get_model("bookings", "scheduleexception"), _no_overlap())


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_providerprofile_manage_providers"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduleException",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("start_date", models.DateField(help_text="The first day, in the provider's zone.")),
                (
                    "end_date",
                    models.DateField(help_text="The last day (inclusive); the first day for a single day."),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("day_off", "Day off"), ("holiday", "Holiday"), ("hours", "Changed hours")],
                        max_length=16,
                    ),
                ),
                (
                    "intervals",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text='The hours of each day for "changed hours": [{"start": "HH:MM", "end": "HH:MM"}, …].',
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200)),
                (
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="schedule_exceptions",
                        to="bookings.providerprofile",
                    ),
                ),
            ],
            options={
                "ordering": ["provider", "start_date"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("end_date__gte", models.F("start_date"))),
                        name="bookings_exception_dates_in_order",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["day_off", "holiday", "hours"])),
                        name="bookings_exception_kind_known",
                    ),
                    models.CheckConstraint(
                        condition=django.db.models.lookups.LessThanOrEqual(
                            django.db.models.functions.text.Length("note"), 200
                        ),
                        name="bookings_exception_note_length",
                    ),
                    models.UniqueConstraint(
                        fields=("provider", "start_date"), name="bookings_exception_one_per_start"
                    ),
                ],
            },
        ),
        migrations.RunPython(add_constraint, remove_constraint, elidable=False),
    ]
