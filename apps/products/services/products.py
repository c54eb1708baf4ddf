"""Product writes: create (with the opening stock), change, delete or deactivate, and images."""

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff, snapshot
from apps.products import images
from apps.products.cache import catalog_changed
from apps.products.models import Product
from apps.products.services._common import (
    PRODUCT_FIELDS,
    _change,
    _discard_file_after_commit,
    _locked,
    _save,
    _unique_slug,
)
from apps.products.services.categories import SLUG_TAKEN
from apps.products.services.stock import stock_open

SKU_TAKEN = _("A product with this SKU already exists.")
PRODUCT_UNIQUE_ERRORS = {
    "sku": ("sku", SKU_TAKEN),
    "slug": ("slug", SLUG_TAKEN),
}


def _product_check_unique(product: Product) -> None:
    others = Product.objects.exclude(pk=product.pk)
    problems = {}
    if others.filter(sku=product.sku).exists():
        problems["sku"] = [SKU_TAKEN]
    if others.filter(slug=product.slug).exists():
        problems["slug"] = [SLUG_TAKEN]
    if problems:
        raise errors.InvalidInput(problems)


def _product_save(product: Product) -> None:
    product.sku = product.sku.strip().upper()
    _product_check_unique(product)
    _save(product, PRODUCT_UNIQUE_ERRORS)


@transaction.atomic
def product_create(
    *, actor: User | None, stock: int = 0, request: HttpRequest | Request | None = None, **data: Any
) -> Product:
    """A new product; its opening stock is the ledger's first movement."""
    product = Product(**data, stock=stock)
    product.slug = product.slug or _unique_slug(Product, product.name)
    _product_save(product)
    stock_open(product=product, actor=actor)
    catalog_changed()
    audit(
        action="product.create",
        actor=actor,
        target=product,
        changes=diff({}, {**snapshot(product, PRODUCT_FIELDS), "stock": stock}),
        request=request,
    )
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    data: dict[str, Any],
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> Product:
    if "stock" in data:
        raise errors.InvalidInput({"stock": [_("Stock changes only through POST products/{id}/stock/.")]})
    product = _locked(Product.objects.select_related("category"), product.pk)
    return _change(
        product,
        data,
        fields=PRODUCT_FIELDS,
        save=_product_save,
        action="product.update",
        actor=actor,
        request=request,
    )


@transaction.atomic
def product_delete(
    *, product: Product, actor: User | None, request: HttpRequest | Request | None = None
) -> bool:
    """Delete a product nothing refers to; otherwise (stock history, bookings) deactivate it, so
    no history is lost. True when the row is gone, False when it was deactivated."""
    product = _locked(Product.objects.all(), product.pk)
    before, pk, image = snapshot(product, PRODUCT_FIELDS), product.pk, product.image.name
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
        _discard_file_after_commit(image)
    catalog_changed()
    audit(
        action="product.delete",
        actor=actor,
        target_type="products.product",
        target_id=pk,
        changes=diff({}, before),
        request=request,
    )
    return True


# --- Images ---------------------------------------------------------------------------------------------
def product_image_set(
    *,
    product: Product,
    image: "UploadedFile[bytes]",
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> Product:
    """Make the uploaded `image` the product's picture; the previous file goes once this commits.

    The upload is checked (apps/products/images.py) and written to storage before the row is
    locked: writing to S3 can take seconds, and nobody should wait on the row meanwhile. If the row
    cannot be written, the new file is removed again; a failure at the commit itself can at worst
    leave an unreferenced file, never a product pointing at a missing one.
    """
    checked = images.image_check(image)
    field = Product._meta.get_field("image")
    # S3 storage sends the upload's content type as the object's Content-Type: browsers must be told
    # what the file is, not what the client claimed.
    image.content_type = checked.content_type
    name = field.storage.save(
        field.generate_filename(product, f"image{checked.suffix}"), image, max_length=field.max_length
    )
    with transaction.atomic():
        try:
            product = _locked(Product.objects.all(), product.pk)
            previous = product.image.name
            product.image = name
            product.save(update_fields=["image", "updated_at"])
            if previous:
                _discard_file_after_commit(previous)
            catalog_changed()
            audit(
                action="product.image_set",
                actor=actor,
                target=product,
                changes={"image": [previous or None, name]},
                request=request,
            )
        except BaseException:
            field.storage.delete(name)  # rolled back: no row will ever refer to it
            raise
    return product


@transaction.atomic
def product_image_delete(
    *, product: Product, actor: User | None, request: HttpRequest | Request | None = None
) -> Product:
    """Clear the product's image; the file goes once this commits. Without an image, nothing changes."""
    product = _locked(Product.objects.all(), product.pk)
    previous = product.image.name
    if not previous:
        return product
    product.image = ""
    product.save(update_fields=["image", "updated_at"])
    _discard_file_after_commit(previous)
    catalog_changed()
    audit(
        action="product.image_delete",
        actor=actor,
        target=product,
        changes={"image": [previous, None]},
        request=request,
    )
    return product
