"""Reading orders as we keep them, always through the shop."""

from django.db.models import QuerySet

from commerce.models import Order
from shop_app.models import Shop

RECENT_ORDERS_MAX = 100


def orders_recent_for_shop(shop: Shop, limit: int = 20) -> QuerySet[Order]:
    """The shop's newest orders first (by when Shopify created them)."""
    return Order.objects.for_shop(shop).order_by("-shopify_created_at", "-shopify_id")[
        : min(limit, RECENT_ORDERS_MAX)
    ]
