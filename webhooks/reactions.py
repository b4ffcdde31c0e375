"""Where one module's events cause work in another: the one place, at the top of the layers.

Lower modules cannot call higher ones (docs/architecture.md), and no Django signal hides a call.
So every such chain is written here, where it can be read in one go:

- a shop is installed: commerce imports its history (shop_app.lifecycle runs the step), and the
  profiles are computed once it is in;
- a shop is uninstalled: commerce cancels the import;
- an order, refund or shopper changed (a webhook was processed): the shopper's profile is
  computed again (personalize.refresh), and the loyalty ledger brings the orders' points in line
  (earned once paid, taken back on refunds and cancellations; idempotent per order and event);
- a shopper told a fact (personalize.facts): loyalty keeps the birthday and gives the fact's
  once-per-lifetime points;
- a shopper's email marketing consent changed in Shopify (customers/update, and
  customers_email_marketing_consent/update, whose handler reactions_wire extends here): an
  UNSUBSCRIBED or REDACTED newer than what newsletters last wrote ends every topic
  (newsletters.subscriptions.shopify_consent_follow; our own write told back changes nothing).
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from commerce.backfill import backfill_start_for_installation, backfills_cancel_for_shop
from commerce.models import Customer, Order, Refund
from commerce.records import require, shopify_id
from loyalty.earning import facts_award, points_sync_later
from newsletters.subscriptions import shopify_consent_follow
from personalize.facts import facts_recorded_register
from personalize.refresh import profiles_recompute_later, profiles_refresh_later
from shop_app.lifecycle import after_install_register, on_uninstall_register
from shop_app.models import Shop
from webhooks.models import WebhookEvent

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
    facts_recorded_register(facts_award)
    _consent_topic_extend()


CONSENT_TOPIC = "customers_email_marketing_consent/update"
# The topics after which a shopper's consent may have changed: newsletters follows it.
CONSENT_CAUSES = frozenset({"customers/create", "customers/update", CONSENT_TOPIC})


def _consent_topic_extend() -> None:
    """The consent topic's handler records the change in commerce and announces nothing; after it,
    newsletters follows the change in the same transaction: committed with it or not at all (after
    the commit, a process dying between the two would lose a shopper's leaving)."""
    # webhooks.handlers imports this module (ShopperChange): the cycle is broken here, at startup.
    from webhooks.handlers import TOPIC_HANDLERS  # noqa: PLC0415

    record = TOPIC_HANDLERS[CONSENT_TOPIC]
    if getattr(record, "newsletters_follow", False):
        return

    def record_then_follow(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
        record(shop, payload, event)
        customer_id = shopify_id(require(payload, "customer_id", "payload"), "customer_id")
        _newsletters_consent_follow(shop.pk, (customer_id,))

    record_then_follow.newsletters_follow = True  # type: ignore[attr-defined]
    TOPIC_HANDLERS[CONSENT_TOPIC] = record_then_follow


def _newsletters_consent_follow(shop_id: int, customer_shopify_ids: tuple[int, ...]) -> None:
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None or not shop.is_installed:
        return
    for customer_shopify_id in customer_shopify_ids:
        shopify_consent_follow(shop, customer_shopify_id)


@dataclass(frozen=True)
class ShopperChange:
    """What changed, by our row ids, for the services downstream to read back."""

    shop_id: int
    customer_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    cause: str = ""


def shopper_change_announce(change: ShopperChange) -> None:
    """Inform profiles, loyalty and newsletters in the caller's transaction: their jobs are rows
    committed with the change or rolled back with it (each job's wake-up is sent after commit,
    shop_app.jobs). Queued after commit instead, they were lost whenever the process died between
    the two: a worker killed after its batch of orders committed left the batch's points unearned
    for good (tests/proof/test_worker_killed_mid_batch.py)."""
    _shopper_change_inform(change)


def _shopper_change_inform(change: ShopperChange) -> None:
    shop = Shop.objects.filter(pk=change.shop_id).first()
    if shop is None or not shop.is_installed:
        return
    shoppers = shoppers_changed(shop, change)
    # One job for the batch's shoppers, not one each: a worker's batch of order events names up
    # to a hundred, and a job per shopper (a row and a wake-up each) halved its throughput.
    profiles_refresh_later(shop, shoppers)
    if change.cause in CONSENT_CAUSES:
        for customer_shopify_id in shoppers:
            shopify_consent_follow(shop, customer_shopify_id)
    if change.order_ids or change.refund_ids:
        points_sync_later(shop, list(change.order_ids), list(change.refund_ids))


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
