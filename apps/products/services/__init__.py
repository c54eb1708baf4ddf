"""Catalog writes. Each is one transaction, audited, and moves the catalog's cache version when it
commits. Stock changes only through `stock_adjust`."""

from apps.products.services._common import CATEGORY_FIELDS, PRODUCT_FIELDS
from apps.products.services.categories import (
    CATEGORY_NAME_TAKEN,
    SLUG_TAKEN,
    category_create,
    category_delete,
    category_update,
)
from apps.products.services.products import (
    SKU_TAKEN,
    product_create,
    product_delete,
    product_image_delete,
    product_image_set,
    product_update,
)
from apps.products.services.stock import StockConflict, stock_adjust

__all__ = [
    "CATEGORY_FIELDS",
    "CATEGORY_NAME_TAKEN",
    "PRODUCT_FIELDS",
    "SKU_TAKEN",
    "SLUG_TAKEN",
    "StockConflict",
    "category_create",
    "category_delete",
    "category_update",
    "product_create",
    "product_delete",
    "product_image_delete",
    "product_image_set",
    "product_update",
    "stock_adjust",
]
