"""What every catalog write shares: the audited change, unique slugs, row locks, constraint errors."""

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import slugify
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff, snapshot
from apps.products.cache import catalog_changed
from apps.products.models import Category, Product

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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

M = TypeVar("M", bound=models.Model)


def _unique_slug(model: type[Category | Product], text: str, *, exclude_pk: int | None = None) -> str:
    """`text` slugified, with -2, -3... appended while another row has it."""
    max_length = model._meta.get_field("slug").max_length
    assert max_length is not None  # a SlugField always has one
    base = (slugify(text) or "item")[: max_length - 8].strip("-") or "item"
    taken = set(
        model.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)  # type: ignore[misc]  # pk=None excludes nothing; the stubs refuse None
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _locked(queryset: QuerySet[M], pk: int) -> M:
    """The row, locked until the transaction ends; a 404 if it went in the meantime."""
    row = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
    if row is None:
        raise errors.NotFound()
    return row


def _save(instance: models.Model, unique_errors: Mapping[str, tuple[str, "StrOrPromise"]]) -> None:
    """Save in a savepoint; a unique constraint lost to a concurrent write is the same 400 the
    pre-check gives."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        message = str(exc).lower()
        for marker, (field, text) in unique_errors.items():
            if marker in message:
                raise errors.InvalidInput({field: [text]}) from exc
        raise


def _discard_file_after_commit(name: str) -> None:
    """Delete a file no row refers to any more, after the commit that dropped the reference.

    `robust`: the change is committed by then, so a storage failure must not turn it into a 500; it
    is logged, and leaves an unreferenced file behind.
    """
    storage = Product._meta.get_field("image").storage
    transaction.on_commit(lambda: storage.delete(name), robust=True)


def _change(
    instance: M,
    data: dict[str, Any],
    *,
    fields: Iterable[str],
    save: Callable[[M], None],
    action: str,
    actor: User | None,
    request: HttpRequest | Request | None,
) -> M:
    """Apply `data` to the locked `instance`, save it with `save`, and record the change: the cache
    version moves on commit and the audit entry holds each changed field before and after."""
    before = snapshot(instance, fields)
    for name, value in data.items():
        setattr(instance, name, value)
    save(instance)
    catalog_changed()
    audit(
        action=action,
        actor=actor,
        target=instance,
        changes=diff(before, instance, fields),
        request=request,
    )
    return instance
