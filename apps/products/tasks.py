"""Low-stock alerts: one email per manager, sent after the stock change committed."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from apps.accounts.models import User
from apps.accounts.tasks import EMAIL_RETRY_POLICY
from apps.products.models import Product, StockMovement

logger = logging.getLogger(__name__)

ALERT_ROLE = "manager"


def alert_recipients():
    """Active users holding the manager role."""
    return User.objects.filter(is_active=True, groups__name=ALERT_ROLE).distinct().order_by("id")


@shared_task(name="products.send_low_stock_alert")
def send_low_stock_alert(product_id: int, movement_id: int) -> int:
    """Queue one email per manager for the movement that crossed the threshold; returns how many.

    One task per recipient, so a retry after a mail failure re-sends to that manager only.
    """
    recipients = list(alert_recipients().values_list("pk", flat=True))
    for user_id in recipients:
        send_low_stock_email.delay(product_id, movement_id, user_id)
    return len(recipients)


@shared_task(name="products.send_low_stock_email", **EMAIL_RETRY_POLICY)
def send_low_stock_email(product_id: int, movement_id: int, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    movement = StockMovement.objects.filter(pk=movement_id).first()
    if user is None or product is None or movement is None:
        return False
    context = {
        "user": user,
        "product": product,
        "movement": movement,
        "site_name": settings.SITE_NAME,
        "link": f"{settings.FRONTEND_URL}/products/{product.slug}",
    }
    template = "emails/products/low_stock"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{template}.txt", context), to=[user.email]
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
    logger.info("Sent a low-stock alert for product %s to user %s", product_id, user_id)
    return True
