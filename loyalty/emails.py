"""Loyalty's emails to shoppers (birthday, points about to expire), through Django's mail: the
newsletters app's email channel will carry them once it exists."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from commerce.models import Customer
from shop_app.models import Shop

logger = logging.getLogger(__name__)


def shopper_email(shop: Shop, customer_id: int) -> str:
    customer = (
        Customer.objects.for_shop(shop).filter(shopify_id=customer_id, redacted_at__isnull=True).first()
    )
    if customer is None or not customer.email or customer.email_marketing_state == "unsubscribed":
        return ""
    return customer.email


def shopper_email_send(shop: Shop, customer_id: int, subject: str, body: str) -> bool:
    """Send one email; False when the shopper has no address we may write to."""
    address = shopper_email(shop, customer_id)
    if not address:
        return False
    sender = shop.email or getattr(settings, "DEFAULT_FROM_EMAIL", "no-reply@localhost")
    send_mail(f"{shop.name or shop.domain}: {subject}", body, sender, [address], fail_silently=False)
    return True
