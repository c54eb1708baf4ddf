"""Trigram indexes for the product `search` filter, on PostgreSQL only.

`search` is a case-insensitive substring match, which Django writes as
`UPPER(col::text) LIKE UPPER('%term%')`. A B-tree cannot serve a leading wildcard; a GIN index
with `gin_trgm_ops` on exactly that expression can, so a search stays an index scan however large
the catalog grows. SQLite has no such index and scans, which is fine at its scale.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ("name", "sku", "description")


def _index_name(column: str) -> str:
    return f"products_product_{column}_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_index_name(column)} ON products_product "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_index_name(column)}")


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]

    operations = [
        TrigramExtension(),  # does nothing on other databases
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
