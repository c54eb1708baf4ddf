"""Explicit fields only. Reads are plain Serializers rendered by hand (they run for every row of
the most-read lists); writes validate the input and hand it to the services."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core import fields
from apps.core.validators import validate_visible_text
from apps.products.models import (
    MAX_PRICE,
    MAX_STOCK,
    Category,
    Product,
    StockMovement,
    StockReason,
    reason_sign_problem,
)

_PRICE = serializers.DecimalField(max_digits=10, decimal_places=2)


# --- Reads ----------------------------------------------------------------------------------------------
@extend_schema_serializer(description="A category of the catalog.")
class CategorySerializer(fields.DatetimeTextMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = fields.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    description = fields.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "Category"

    def to_representation(self, category: Category) -> dict:
        return {
            "id": category.pk,
            "name": category.name,
            "slug": category.slug,
            "description": category.description,
            "is_active": category.is_active,
            "created_at": self.datetime_text(category.created_at),
            "updated_at": self.datetime_text(category.updated_at),
        }


class CategorySummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = fields.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)

    class Meta:
        ref_name = "CategorySummary"


@extend_schema_serializer(description="A product as the public catalog shows it.")
class ProductSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    """A product as the public catalog shows it."""

    id = serializers.IntegerField(read_only=True)
    name = fields.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    sku = fields.CharField(read_only=True)
    description = fields.CharField(read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    stock = serializers.IntegerField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    category = CategorySummarySerializer(read_only=True)
    image = serializers.URLField(read_only=True, allow_null=True, help_text="Absolute URL, or null.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "Product"

    def to_representation(self, product: Product) -> dict:
        category = product.category
        return {
            "id": product.pk,
            "name": product.name,
            "slug": product.slug,
            "sku": product.sku,
            "description": product.description,
            "price": _PRICE.to_representation(product.price),
            "stock": product.stock,
            "in_stock": product.stock > 0,
            "is_active": product.is_active,
            "category": {"id": category.pk, "name": category.name, "slug": category.slug},
            "image": self._image_url(product),
            "created_at": self.datetime_text(product.created_at),
            "updated_at": self.datetime_text(product.updated_at),
        }

    def _image_url(self, product: Product) -> str | None:
        if not product.image:
            return None
        url = product.image.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None and url.startswith("/") else url


@extend_schema_serializer(description="A product as staff see it: with its low-stock alert threshold.")
class StaffProductSerializer(ProductSerializer):
    """What staff see besides: the alert threshold."""

    low_stock_threshold = serializers.IntegerField(read_only=True)

    class Meta:
        ref_name = "StaffProduct"

    def to_representation(self, product: Product) -> dict:
        return {**super().to_representation(product), "low_stock_threshold": product.low_stock_threshold}


@extend_schema_serializer(description="One change of a product's stock, with the stock it left.")
class StockMovementSerializer(fields.DatetimeTextMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product = serializers.IntegerField(source="product_id", read_only=True)
    delta = serializers.IntegerField(read_only=True)
    reason = serializers.ChoiceField(choices=StockReason.choices, read_only=True)
    note = fields.CharField(read_only=True)
    resulting_stock = serializers.IntegerField(read_only=True)
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "StockMovement"

    def to_representation(self, movement: StockMovement) -> dict:
        return {
            "id": movement.pk,
            "product": movement.product_id,
            "delta": movement.delta,
            "reason": movement.reason,
            "note": movement.note,
            "resulting_stock": movement.resulting_stock,
            "actor": movement.actor_id,
            "created_at": self.datetime_text(movement.created_at),
        }


class StockAdjustmentResultSerializer(serializers.Serializer):
    stock = serializers.IntegerField(read_only=True, help_text="The product's stock after the change.")
    movement = StockMovementSerializer(read_only=True)


# --- Writes ---------------------------------------------------------------------------------------------
class CategoryWriteSerializer(serializers.Serializer):
    name = fields.CharField(max_length=100, validators=[validate_visible_text])
    slug = fields.SlugField(max_length=120, required=False, help_text="Made from the name when left out.")
    description = fields.CharField(max_length=2000, required=False, allow_blank=True)
    is_active = fields.BooleanField(required=False)

    class Meta:
        ref_name = "Category"  # only ever a request: `CategoryRequest`


class ProductWriteSerializer(serializers.Serializer):
    name = fields.CharField(max_length=200)
    slug = fields.SlugField(max_length=220, required=False, help_text="Made from the name when left out.")
    sku = fields.CharField(max_length=64, help_text="Stock keeping unit: letters, digits, `.`, `-`, `_`.")
    description = fields.CharField(max_length=10_000, required=False, allow_blank=True)
    price = fields.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_PRICE,
        error_messages={"not_a_string": _('Send the price as a string, such as "9.99".')},
        help_text=f'A decimal string of ASCII digits, such as "9.99": 0.01 to {MAX_PRICE}.',
    )
    stock = fields.IntegerField(
        min_value=0,
        max_value=MAX_STOCK,
        required=False,
        help_text="Opening stock, on creation only; later changes go through POST products/{id}/stock/.",
    )
    low_stock_threshold = fields.IntegerField(min_value=0, max_value=MAX_STOCK, required=False)
    is_active = fields.BooleanField(required=False)
    category = fields.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The category's id.")

    class Meta:
        ref_name = "Product"  # only ever a request: `ProductRequest`

    def validate_sku(self, value: str) -> str:
        value = value.strip().upper()
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        if not value or not set(value) <= allowed:
            raise serializers.ValidationError(_("Use letters, digits, `.`, `-` and `_` only."))
        return value

    def validate_category(self, value: int) -> Category:
        category = Category.objects.filter(pk=value).first()
        if category is None:
            raise serializers.ValidationError(_("No category has this id."))
        return category

    def validate(self, attrs):
        if self.partial and "stock" in self.initial_data:
            raise serializers.ValidationError(
                {"stock": [_("Stock changes only through POST products/{id}/stock/.")]}
            )
        return attrs


class StockAdjustSerializer(serializers.Serializer):
    delta = fields.IntegerField(
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text=(
            "Units to add; negative to remove; not zero. Its sign must fit the reason: `restock` and "
            "`return` add, `sale` and `damage` remove, `correction` goes either way."
        ),
    )
    reason = serializers.ChoiceField(
        choices=[choice for choice in StockReason.choices if choice[0] != StockReason.INITIAL]
    )
    note = fields.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        ref_name = "StockAdjust"

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("A stock change cannot be zero."))
        return value

    def validate(self, attrs):
        if (problem := reason_sign_problem(attrs["reason"], attrs["delta"])) is not None:
            raise serializers.ValidationError({"delta": [problem]})
        return attrs


class ProductImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text=(
            "A JPEG, PNG or WebP image of at most `PRODUCT_IMAGE_MAX_BYTES` (5 MB by default), recognised "
            "by its content: the file name and its declared type do not matter."
        )
    )

    class Meta:
        ref_name = "ProductImageUpload"
