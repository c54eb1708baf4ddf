"""Stock changes: the only way stock moves, and the only writer of the stock ledger.

One conditional UPDATE decides, under the row's lock, whether the change keeps stock within bounds,
so concurrent sales can never oversell. Every change, the opening stock of a new product included,
is recorded by `_movement_record`: one place says what a ledger row holds.
"""

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core import errors
from apps.logs.services import audit
from apps.products.cache import catalog_changed
from apps.products.models import MAX_STOCK, Product, StockMovement, StockReason, reason_sign_problem
from apps.products.notifications import low_stock_notify

if TYPE_CHECKING:
    pass


class StockConflict(errors.Conflict):
    default_message = _("Not enough stock for this change.")


def _movement_record(
    *, product_id: int, delta: int, reason: str, resulting_stock: int, note: str = "", actor: User | None
) -> StockMovement:
    """The ledger row of a change already made to the product's stock, in the same transaction."""
    return StockMovement.objects.create(
        product_id=product_id,
        delta=delta,
        reason=reason,
        note=note,
        resulting_stock=resulting_stock,
        actor_id=getattr(actor, "pk", None),
    )


def stock_open(*, product: Product, actor: User | None) -> StockMovement | None:
    """The ledger's first movement: the stock a new product was inserted with (none without).

    The product's INSERT already set its stock, and nobody else sees the row before the commit, so
    there is nothing to update or lock.
    """
    if not product.stock:
        return None
    return _movement_record(
        product_id=product.pk,
        delta=product.stock,
        reason=StockReason.INITIAL,
        resulting_stock=product.stock,
        actor=actor,
    )


@transaction.atomic
def stock_adjust(
    *,
    product: Product,
    delta: int,
    reason: str,
    note: str = "",
    actor: User | None,
    request: HttpRequest | Request | None = None,
) -> StockMovement:
    """Add `delta` (negative to remove) to the product's stock, atomically.

    The UPDATE's WHERE clause is the whole check: under concurrent adjustments each one waits for
    the row's lock and re-evaluates it against the committed stock, so exactly the changes that
    fit succeed. A change that does not fit changes nothing and is a 409.
    """
    if delta == 0:
        raise errors.InvalidInput({"delta": [_("A stock change cannot be zero.")]})
    if (problem := reason_sign_problem(reason, delta)) is not None:
        raise errors.InvalidInput({"delta": [problem]})
    updated = Product.objects.filter(pk=product.pk, stock__gte=-delta, stock__lte=MAX_STOCK - delta).update(
        stock=F("stock") + delta, updated_at=timezone.now()
    )
    if not updated:
        current = Product.objects.filter(pk=product.pk).values_list("stock", flat=True).first()
        if current is None:
            raise errors.Conflict(_("This product no longer exists."))
        if current + delta < 0:
            raise StockConflict(
                _("Not enough stock: %(stock)d in stock, cannot remove %(amount)d.")
                % {"stock": current, "amount": -delta}
            )
        raise StockConflict(_("Stock cannot exceed %(max)d.") % {"max": MAX_STOCK})
    # The row stays locked by our UPDATE until commit: this reads our own result.
    resulting = Product.objects.filter(pk=product.pk).values_list("stock", "low_stock_threshold").get()
    stock, threshold = resulting
    movement = _movement_record(
        product_id=product.pk, delta=delta, reason=reason, resulting_stock=stock, note=note, actor=actor
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
        low_stock_notify(product=product, movement=movement)
    return movement
