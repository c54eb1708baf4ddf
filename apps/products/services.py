"""Catalog writes. Each is one transaction, audited, and bumps the catalog's cache version.

Stock changes only through `stock_adjust`: one conditional UPDATE decides, under the row's lock,
whether the change keeps stock within bounds, so concurrent sales can never oversell.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, RestrictedError, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from apps.core.exceptions import Conflict
from apps.logs.services import audit
from apps.products.cache import catalog_changed
from apps.products.models import MAX_STOCK, Category, Product, StockMovement, StockReason

CATEGORY_FIELDS = ("name", "slug", "description", "is_active")
PRODUCT_FIELDS = (
    "name",
    "slug",
    "sku",
    "description",
    "price",
    "low_stock_threshold",
    "is_active",
    "category",
)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Category):
        return value.pk
    return value


def _state(instance, names) -> dict:
    return {name: _jsonable(getattr(instance, name)) for name in names}


def _diff(before: dict, after: dict) -> dict:
    return {key: [before.get(key), after[key]] for key in after if before.get(key) != after[key]}


def _unique_slug(model, text: str, *, exclude_pk=None) -> str:
    """`text` slugified, with -2, -3... appended while another row has it."""
    max_length = model._meta.get_field("slug").max_length
    base = (slugify(text) or "item")[: max_length - 8].strip("-") or "item"
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _save(instance, unique_errors: dict[str, str]) -> None:
    """Save in a savepoint; a unique constraint lost to a concurrent write is the same 400 the
    pre-check gives."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        message = str(exc).lower()
        for marker, (field, text) in unique_errors.items():
            if marker in message:
                raise ValidationError({field: [text]}) from exc
        raise


# --- Categories -----------------------------------------------------------------------------------------
CATEGORY_NAME_TAKEN = _("A category with that name already exists.")
SLUG_TAKEN = _("This slug is already in use.")


def _category_check_unique(category: Category) -> None:
    others = Category.objects.exclude(pk=category.pk)
    errors = {}
    if others.alias(name_lower=Lower("name")).filter(name_lower=Lower(Value(category.name))).exists():
        errors["name"] = [CATEGORY_NAME_TAKEN]
    if others.filter(slug=category.slug).exists():
        errors["slug"] = [SLUG_TAKEN]
    if errors:
        raise ValidationError(errors)


def _category_save(category: Category) -> None:
    _category_check_unique(category)
    _save(
        category,
        {
            "products_category_name_ci_unique": ("name", CATEGORY_NAME_TAKEN),
            "slug": ("slug", SLUG_TAKEN),
        },
    )


@transaction.atomic
def category_create(*, actor, request=None, **data) -> Category:
    category = Category(**data)
    category.slug = category.slug or _unique_slug(Category, category.name)
    _category_save(category)
    catalog_changed()
    audit(
        action="category.create",
        actor=actor,
        target=category,
        changes=_diff({}, _state(category, CATEGORY_FIELDS)),
        request=request,
    )
    return category


@transaction.atomic
def category_update(*, category: Category, data: dict, actor, request=None) -> Category:
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = _state(category, CATEGORY_FIELDS)
    for name, value in data.items():
        setattr(category, name, value)
    _category_save(category)
    catalog_changed()
    audit(
        action="category.update",
        actor=actor,
        target=category,
        changes=_diff(before, _state(category, CATEGORY_FIELDS)),
        request=request,
    )
    return category


@transaction.atomic
def category_delete(*, category: Category, actor, request=None) -> None:
    """A category that still holds products, active or not, is kept: deactivate it instead."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    before, pk = _state(category, CATEGORY_FIELDS), category.pk
    try:
        with transaction.atomic():
            category.delete()
    except (ProtectedError, RestrictedError, IntegrityError) as exc:
        raise Conflict(
            _("This category still has products; move them or deactivate the category instead.")
        ) from exc
    catalog_changed()
    audit(
        action="category.delete",
        actor=actor,
        target_type="products.category",
        target_id=pk,
        changes=_diff({}, before),
        request=request,
    )


# --- Products -------------------------------------------------------------------------------------------
SKU_TAKEN = _("A product with this SKU already exists.")
PRODUCT_UNIQUE_ERRORS = {
    "sku": ("sku", SKU_TAKEN),
    "slug": ("slug", SLUG_TAKEN),
}


def _product_check_unique(product: Product) -> None:
    others = Product.objects.exclude(pk=product.pk)
    errors = {}
    if others.filter(sku=product.sku).exists():
        errors["sku"] = [SKU_TAKEN]
    if others.filter(slug=product.slug).exists():
        errors["slug"] = [SLUG_TAKEN]
    if errors:
        raise ValidationError(errors)


def _product_save(product: Product) -> None:
    product.sku = product.sku.strip().upper()
    _product_check_unique(product)
    _save(product, PRODUCT_UNIQUE_ERRORS)


@transaction.atomic
def product_create(*, actor, stock: int = 0, request=None, **data) -> Product:
    """A new product; its opening stock is the ledger's first movement."""
    product = Product(**data, stock=stock)
    product.slug = product.slug or _unique_slug(Product, product.name)
    _product_save(product)
    if stock:
        StockMovement.objects.create(
            product=product,
            delta=stock,
            reason=StockReason.INITIAL,
            resulting_stock=stock,
            actor_id=getattr(actor, "pk", None),
        )
    catalog_changed()
    audit(
        action="product.create",
        actor=actor,
        target=product,
        changes=_diff({}, {**_state(product, PRODUCT_FIELDS), "stock": stock}),
        request=request,
    )
    return product


@transaction.atomic
def product_update(*, product: Product, data: dict, actor, request=None) -> Product:
    if "stock" in data:
        raise ValidationError({"stock": [_("Stock changes only through POST products/{id}/stock/.")]})
    product = Product.objects.select_for_update().select_related("category").get(pk=product.pk)
    before = _state(product, PRODUCT_FIELDS)
    for name, value in data.items():
        setattr(product, name, value)
    _product_save(product)
    catalog_changed()
    audit(
        action="product.update",
        actor=actor,
        target=product,
        changes=_diff(before, _state(product, PRODUCT_FIELDS)),
        request=request,
    )
    return product


@transaction.atomic
def product_delete(*, product: Product, actor, request=None) -> bool:
    """Delete a product nothing refers to; otherwise (stock history, bookings) deactivate it, so
    no history is lost. True when the row is gone, False when it was deactivated."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    before, pk, image = _state(product, PRODUCT_FIELDS), product.pk, product.image.name
    try:
        with transaction.atomic():
            product.delete()
    except (ProtectedError, RestrictedError, IntegrityError):
        if product.is_active:
            product.is_active = False
            product.save(update_fields=["is_active", "updated_at"])
        catalog_changed()
        audit(
            action="product.deactivate",
            actor=actor,
            target=product,
            changes={"is_active": [before["is_active"], False]},
            request=request,
        )
        return False
    if image:
        _delete_file_on_commit(Product._meta.get_field("image").storage, image)
    catalog_changed()
    audit(
        action="product.delete",
        actor=actor,
        target_type="products.product",
        target_id=pk,
        changes=_diff({}, before),
        request=request,
    )
    return True


def _delete_file_on_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


# --- Stock ----------------------------------------------------------------------------------------------
class StockConflict(Conflict):
    default_detail = _("Not enough stock for this change.")


@transaction.atomic
def stock_adjust(
    *, product: Product, delta: int, reason: str, note: str = "", actor, request=None
) -> StockMovement:
    """Add `delta` (negative to remove) to the product's stock, atomically.

    The UPDATE's WHERE clause is the whole check: under concurrent adjustments each one waits for
    the row's lock and re-evaluates it against the committed stock, so exactly the changes that
    fit succeed. A change that does not fit changes nothing and is a 409.
    """
    if delta == 0:
        raise ValidationError({"delta": [_("A stock change cannot be zero.")]})
    updated = Product.objects.filter(pk=product.pk, stock__gte=-delta, stock__lte=MAX_STOCK - delta).update(
        stock=F("stock") + delta, updated_at=timezone.now()
    )
    if not updated:
        current = Product.objects.filter(pk=product.pk).values_list("stock", flat=True).first()
        if current is None:
            raise Conflict(_("This product no longer exists."))
        if current + delta < 0:
            raise StockConflict(
                _("Not enough stock: %(stock)d in stock, cannot remove %(amount)d.")
                % {"stock": current, "amount": -delta}
            )
        raise StockConflict(_("Stock cannot exceed %(max)d.") % {"max": MAX_STOCK})
    # The row stays locked by our UPDATE until commit: this reads our own result.
    resulting = Product.objects.filter(pk=product.pk).values_list("stock", "low_stock_threshold").get()
    stock, threshold = resulting
    movement = StockMovement.objects.create(
        product_id=product.pk,
        delta=delta,
        reason=reason,
        note=note,
        resulting_stock=stock,
        actor_id=getattr(actor, "pk", None),
    )
    catalog_changed()
    audit(
        action="product.stock_adjust",
        actor=actor,
        target=product,
        changes={"stock": [stock - delta, stock], "reason": reason},
        request=request,
    )
    if stock <= threshold < stock - delta:
        # Crossed the threshold with this change: each crossing alerts once, whatever runs concurrently.
        from apps.products.tasks import send_low_stock_alert

        transaction.on_commit(lambda: send_low_stock_alert.delay(product.pk, movement.pk))
    return movement
