"""Category writes: create, change, delete (refused while the category holds products)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError, Value
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff, snapshot
from apps.products.cache import catalog_changed
from apps.products.models import Category
from apps.products.services._common import (
    CATEGORY_FIELDS,
    _change,
    _locked,
    _save,
    _unique_slug,
)

CATEGORY_NAME_TAKEN = _("A category with that name already exists.")
SLUG_TAKEN = _("This slug is already in use.")


def _category_check_unique(category: Category) -> None:
    others = Category.objects.exclude(pk=category.pk)
    problems = {}
    if others.alias(name_lower=Lower("name")).filter(name_lower=Lower(Value(category.name))).exists():
        problems["name"] = [CATEGORY_NAME_TAKEN]
    if others.filter(slug=category.slug).exists():
        problems["slug"] = [SLUG_TAKEN]
    if problems:
        raise errors.InvalidInput(problems)


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
def category_create(
    *, actor: User | None, request: HttpRequest | Request | None = None, **data: Any
) -> Category:
    category = Category(**data)
    category.slug = category.slug or _unique_slug(Category, category.name)
    _category_save(category)
    catalog_changed()
    audit(
        action="category.create",
        actor=actor,
        target=category,
        changes=diff({}, category, CATEGORY_FIELDS),
        request=request,
    )
    return category


@transaction.atomic
def category_update(
    *,
    category: Category,
    data: dict[str, Any],
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> Category:
    category = _locked(Category.objects.all(), category.pk)
    return _change(
        category,
        data,
        fields=CATEGORY_FIELDS,
        save=_category_save,
        action="category.update",
        actor=actor,
        request=request,
    )


@transaction.atomic
def category_delete(
    *, category: Category, actor: User | None, request: HttpRequest | Request | None = None
) -> None:
    """A category that still holds products, active or not, is kept: deactivate it instead."""
    category = _locked(Category.objects.all(), category.pk)
    before, pk = snapshot(category, CATEGORY_FIELDS), category.pk
    try:
        with transaction.atomic():
            category.delete()
    except (ProtectedError, RestrictedError, IntegrityError) as exc:
        raise errors.Conflict(
            _("This category still has products; move them or deactivate the category instead.")
        ) from exc
    catalog_changed()
    audit(
        action="category.delete",
        actor=actor,
        target_type="products.category",
        target_id=pk,
        changes=diff({}, before),
        request=request,
    )
