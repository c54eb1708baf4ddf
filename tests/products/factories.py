"""Categories and products made through the services, as the API makes them."""

from decimal import Decimal
from itertools import count

from apps.products import services

CATALOG_MODELS = ("category", "product", "stockmovement")
# Every permission of the catalog app: the four model permissions of each model, and stock changes.
CATALOG_PERMISSIONS = (
    *(f"products.{verb}_{model}" for verb in ("add", "change", "delete", "view") for model in CATALOG_MODELS),
    "products.adjust_stock",
)

_numbers = count(1)


def new_category(**fields):
    """A category through `category_create`; a unique name unless one is given."""
    fields.setdefault("name", f"Category {next(_numbers)}")
    return services.category_create(actor=None, **fields)


def new_product(*, category=None, **fields):
    """A product through `product_create`: an opening `stock` is its first stock movement."""
    n = next(_numbers)
    fields.setdefault("name", f"Product {n}")
    fields.setdefault("sku", f"SKU-{n}")
    fields.setdefault("price", Decimal("10.00"))
    return services.product_create(actor=None, category=category or new_category(), **fields)
