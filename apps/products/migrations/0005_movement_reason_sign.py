"""A stock movement's reason and the sign of its change agree (a sale removes stock, a restock adds).

The API accepted `sale` +5 and `restock` -1 before this constraint: such rows are relabelled
`correction` first, the one reason that goes either way, so the ledger's quantities stay as they
were and only a reason that contradicted them changes.
"""

from django.db import migrations, models
from django.db.models import Q

ADDING = ("initial", "restock", "return")
REMOVING = ("sale", "damage")


def relabel_contradicting_rows(apps, schema_editor):
    StockMovement = apps.get_model("products", "StockMovement")
    StockMovement.objects.filter(
        Q(reason__in=ADDING, delta__lt=0) | Q(reason__in=REMOVING, delta__gt=0)
    ).update(reason="correction")


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0004_category_name_without_invisible_characters"),
    ]

    operations = [
        migrations.RunPython(relabel_contradicting_rows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("delta__gt", 0), ("reason__in", ADDING)),
                    models.Q(("delta__lt", 0), ("reason__in", REMOVING)),
                    ("reason", "correction"),
                    _connector="OR",
                ),
                name="products_movement_reason_sign",
            ),
        ),
    ]
