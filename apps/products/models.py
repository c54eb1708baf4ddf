"""The catalog: categories, products and the ledger of every stock change.

Every rule that can be a database constraint is one, so that no code path (the admin, a shell, a
data migration, two concurrent requests) can store a product the API would refuse.
"""

import uuid
from decimal import Decimal
from pathlib import PurePath

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.core.validators import validate_visible_text

# Stock lives in a 32-bit column; the cap leaves room for any single adjustment's arithmetic.
MAX_STOCK = 1_000_000_000
MAX_PRICE = Decimal("99999999.99")  # the most a Decimal(10, 2) column holds


def product_image_path(instance: "Product", filename: str) -> str:
    """A random name: the client's file name is neither trusted nor kept."""
    suffix = PurePath(filename).suffix.lower()
    return f"products/{uuid.uuid4().hex}{suffix}"


class Category(TimeStampedModel):
    name = models.CharField(max_length=100, validators=[validate_visible_text])
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(max_length=2000, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            # Unique ignoring case, like a user's email: "Books" and "books" are one category.
            models.UniqueConstraint(Lower("name"), name="products_category_name_ci_unique"),
        ]
        indexes = [models.Index(fields=["is_active", "name"], name="products_category_active_idx")]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sku = models.CharField(
        "SKU", max_length=64, unique=True, help_text="Stock keeping unit, stored in upper case."
    )
    description = models.TextField(max_length=10_000, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0, help_text="Changed only through stock adjustments.")
    low_stock_threshold = models.IntegerField(
        default=0, help_text="Managers are emailed when stock falls to or below this number."
    )
    is_active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    image = models.ImageField(upload_to=product_image_path, blank=True, max_length=255)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="products_product_price_positive"),
            models.CheckConstraint(
                condition=Q(stock__gte=0) & Q(stock__lte=MAX_STOCK), name="products_product_stock_range"
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0) & Q(low_stock_threshold__lte=MAX_STOCK),
                name="products_product_threshold_range",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="products_product_name_not_empty"),
            models.CheckConstraint(condition=~Q(sku=""), name="products_product_sku_not_empty"),
        ]
        # The public list is "active, newest first", optionally narrowed by category or price.
        # Trigram indexes for `search` are PostgreSQL-only and made by migration 0002.
        indexes = [
            models.Index(fields=["is_active", "-created_at", "-id"], name="products_active_created_idx"),
            models.Index(
                fields=["category", "is_active", "-created_at", "-id"], name="products_category_idx"
            ),
            models.Index(fields=["is_active", "price", "id"], name="products_active_price_idx"),
            # Counting a category's products in a price band reads only this index.
            models.Index(fields=["category", "is_active", "price"], name="products_category_price_idx"),
            models.Index(fields=["is_active", "name", "id"], name="products_active_name_idx"),
        ]
        permissions = [("adjust_stock", "Can adjust product stock")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class StockReason(models.TextChoices):
    INITIAL = "initial", "Initial stock"
    RESTOCK = "restock", "Restock"
    SALE = "sale", "Sale"
    RETURN = "return", "Return"
    DAMAGE = "damage", "Damaged or lost"
    CORRECTION = "correction", "Inventory correction"


# Which way each reason moves stock; a correction may go either way.
ADDING_REASONS = (StockReason.INITIAL, StockReason.RESTOCK, StockReason.RETURN)
REMOVING_REASONS = (StockReason.SALE, StockReason.DAMAGE)


def reason_sign_problem(reason: str, delta: int) -> str | None:
    """Why `delta` does not fit `reason` ("a sale removes stock"), or None when it does."""
    label = {"reason": StockReason(reason).label} if reason in StockReason.values else {}
    if reason in ADDING_REASONS and delta < 0:
        return _("“%(reason)s” adds stock: the change must be positive.") % label
    if reason in REMOVING_REASONS and delta > 0:
        return _("“%(reason)s” removes stock: the change must be negative.") % label
    return None


class StockMovement(models.Model):
    """One change of a product's stock: the ledger is append-only, and its last row's
    `resulting_stock` is the product's stock."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_movements")
    delta = models.IntegerField()
    reason = models.CharField(max_length=20, choices=StockReason.choices)
    note = models.CharField(max_length=500, blank=True)
    resulting_stock = models.IntegerField()
    # A plain id, not a foreign key: the ledger outlives accounts, like the audit trail.
    actor_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="products_movement_delta_nonzero"),
            models.CheckConstraint(
                condition=Q(resulting_stock__gte=0), name="products_movement_resulting_stock_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=StockReason.values),
                name="products_movement_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=ADDING_REASONS, delta__gt=0)
                | Q(reason__in=REMOVING_REASONS, delta__lt=0)
                | Q(reason=StockReason.CORRECTION),
                name="products_movement_reason_sign",
            ),
        ]
        indexes = [models.Index(fields=["product", "-created_at", "-id"], name="products_movement_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.delta:+d} ({self.reason})"
