"""Where one module's events cause work in another: the one place, at the top of the layers.

Lower modules cannot call higher ones (docs/architecture.md), and no Django signal hides a call.
So every such chain is written here, where it can be read in one go:

- a shop is installed: commerce imports its history (shop_app.lifecycle runs the step), and the
  profiles are computed once it is in;
- a shop is uninstalled: commerce cancels the import;
- an order, refund or shopper changed (a webhook was processed): the shopper's profile is
  computed again (personalize.refresh); the loyalty ledger will learn of it with its issue.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from commerce.backfill import backfill_start_for_installation, backfills_cancel_for_shop
from commerce.models import Customer, Order, Refund
from personalize.refresh import profile_refresh_later, profiles_recompute_later
from shop_app.lifecycle import after_install_register, on_uninstall_register
from shop_app.models import Shop

logger = logging.getLogger(__name__)


def _backfill_start(shop: Shop) -> None:
    backfill_start_for_installation(shop)


def _backfills_cancel(shop: Shop) -> None:
    backfills_cancel_for_shop(shop)


def _profiles_start(shop: Shop) -> None:
    profiles_recompute_later(shop)


def reactions_wire() -> None:
    """Called once at startup (webhooks' AppConfig.ready)."""
    after_install_register(_backfill_start)
    after_install_register(_profiles_start)
    on_uninstall_register(_backfills_cancel)


@dataclass(frozen=True)
class ShopperChange:
    """What changed, by our row ids, for the services downstream to read back."""

    shop_id: int
    customer_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    cause: str = ""


def shopper_change_announce(change: ShopperChange) -> None:
    """Inform profiles and loyalty once the change is committed (never for a rolled-back one)."""
    transaction.on_commit(lambda: _shopper_change_inform(change))


def _shopper_change_inform(change: ShopperChange) -> None:
    shop = Shop.objects.filter(pk=change.shop_id).first()
    if shop is None or not shop.is_installed:
        return
    for customer_shopify_id in shoppers_changed(shop, change):
        profile_refresh_later(shop, customer_shopify_id)


def shoppers_changed(shop: Shop, change: ShopperChange) -> set[int]:
    """The Shopify ids of the shoppers a change touched: its customers, and the buyers of its
    orders and of the orders its refunds belong to."""
    shoppers = set(
        Customer.objects.for_shop(shop)
        .filter(pk__in=change.customer_ids)
        .values_list("shopify_id", flat=True)
    )
    orders = Order.objects.for_shop(shop).filter(customer_shopify_id__isnull=False)
    refunded = Refund.objects.for_shop(shop).filter(pk__in=change.refund_ids).values("order_id")
    for buyer in orders.filter(Q(pk__in=change.order_ids) | Q(pk__in=refunded)).values_list(
        "customer_shopify_id", flat=True
    ):
        if buyer is not None:
            shoppers.add(buyer)
    return shoppers
