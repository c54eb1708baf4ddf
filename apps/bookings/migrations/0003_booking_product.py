"""What a booking is for is the `product` in code: `Booking.service` becomes `Booking.product` and
`ProviderProfile.services` becomes `ProviderProfile.products`. The API still calls it `service`.

Renaming the fields renames the column (`service_id` to `product_id`) and the many-to-many table
(`bookings_providerprofile_services` to `bookings_providerprofile_products`), but PostgreSQL keeps
the names Django gave their indexes, constraints and sequence after the old column and table.
`names_follow_fields` gives them the names Django gives them now; it runs after the renames, and
when the migration is reversed, after they are undone, with the old fields' names.
"""

from django.db import migrations, models
from django.db.backends.utils import split_identifier


def _django_names(schema_editor, model, fields) -> dict[str, str]:
    """What Django names each index and constraint it makes for `fields` of `model`, by its columns
    (("pk",) for the primary key)."""
    table = model._meta.db_table
    names = {("pk",): f"{table}_pkey"}
    for field in fields:
        names[("index", field.column)] = schema_editor._create_index_name(table, [field.column])
        if field.remote_field is not None:
            target = field.target_field
            suffix = f"_fk_{split_identifier(target.model._meta.db_table)[1]}_{target.column}"
            names[("fk", field.column)] = schema_editor._create_index_name(
                table, [field.column], suffix=suffix
            )
    for together in model._meta.unique_together:
        columns = [model._meta.get_field(name).column for name in together]
        names[("unique", *columns)] = schema_editor._create_index_name(table, columns, suffix="_uniq")
    return names


def _rename_to_django_names(schema_editor, model, fields) -> None:
    connection, table = schema_editor.connection, model._meta.db_table
    wanted = _django_names(schema_editor, model, fields)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            if info["primary_key"]:
                key, is_constraint = ("pk",), True
            elif info["foreign_key"]:
                key, is_constraint = ("fk", *info["columns"]), True
            elif info["unique"]:
                key, is_constraint = ("unique", *info["columns"]), True
            elif info["index"]:
                key, is_constraint = ("index", *info["columns"]), False
            else:
                continue
            new = wanted.get(key)
            if new is None or new == name:
                continue  # not one Django named after these fields (a check, a named index)
            q = schema_editor.quote_name
            if is_constraint:
                cursor.execute(f"ALTER TABLE {q(table)} RENAME CONSTRAINT {q(name)} TO {q(new)}")
            else:
                cursor.execute(f"ALTER INDEX {q(name)} RENAME TO {q(new)}")
        pk = model._meta.pk.column
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
        sequence = cursor.fetchone()[0]
        if sequence is not None and sequence.split(".")[-1].strip('"') != f"{table}_{pk}_seq":
            cursor.execute(
                f"ALTER SEQUENCE {sequence} RENAME TO {schema_editor.quote_name(f'{table}_{pk}_seq')}"
            )


def names_follow_fields(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite rebuilds a table with a renamed column, and names every index afresh
    booking = apps.get_model("bookings", "Booking")
    booked = [field for field in booking._meta.concrete_fields if field.name in ("product", "service")]
    _rename_to_django_names(schema_editor, booking, booked)
    profile = apps.get_model("bookings", "ProviderProfile")
    (offered,) = profile._meta.many_to_many
    through = offered.remote_field.through
    _rename_to_django_names(schema_editor, through, through._meta.local_fields)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_exclusion_constraints")]

    operations = [
        # Reversed last: the names the old fields had.
        migrations.RunPython(migrations.RunPython.noop, names_follow_fields, elidable=False),
        migrations.RenameField(model_name="booking", old_name="service", new_name="product"),
        migrations.RenameField(model_name="providerprofile", old_name="services", new_name="products"),
        migrations.AlterField(
            model_name="booking",
            name="price",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The product's price when the booking was made; empty without a product.",
                max_digits=10,
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="providerprofile",
            name="products",
            field=models.ManyToManyField(
                blank=True,
                help_text="The products they offer.",
                related_name="providers",
                to="products.product",
            ),
        ),
        migrations.RunPython(names_follow_fields, migrations.RunPython.noop, elidable=False),
    ]
