"""The catalog's messages, sent through the notification pipeline (apps/notifications)."""

from django.conf import settings

from apps.notifications.kinds import Kind, NotNeeded, register
from apps.notifications.models import Category, Channel
from apps.notifications.services import notify
from apps.roles.selectors import users_with_role
from apps.roles.spec import SystemRole

# Who hears of low stock: the managers of the catalog.
ALERT_ROLE = SystemRole.MANAGER


def _stock_context(notification) -> dict:
    from apps.products.models import Product, StockMovement

    product = Product.objects.select_related("category").filter(pk=notification.context["product_id"]).first()
    movement = StockMovement.objects.filter(pk=notification.context["movement_id"]).first()
    if product is None or movement is None:
        raise NotNeeded("the product or its stock movement is gone")
    return {
        "product": product,
        "movement": movement,
        "link": f"{settings.FRONTEND_URL}/products/{product.slug}",
    }


LOW_STOCK = register(
    Kind(
        "low_stock",
        Category.CATALOG,
        channels=(Channel.EMAIL, Channel.IN_APP),
        description="A stock change took a product to its alert threshold or below.",
        send_context=_stock_context,
    )
)


def alert_recipients():
    """Active users holding the manager role."""
    return users_with_role(ALERT_ROLE).order_by("id")


def low_stock_notify(*, product, movement) -> int:
    """Queue the low-stock alert to every manager, in the caller's transaction; how many.

    Keyed by the movement, so one crossing alerts each manager once whatever calls this again.
    """
    managers = list(alert_recipients())
    for manager in managers:
        notify(
            user=manager,
            key=LOW_STOCK.key,
            context={"product_id": product.pk, "movement_id": movement.pk},
            idempotency_key=f"stock-movement:{movement.pk}:low-stock:user:{manager.pk}",
        )
    return len(managers)
