"""The topic -> handler table. Each handler takes the shop, the parsed payload and the event row,
runs inside the event's transaction, and calls ingest or privacy services; nothing else."""

import logging
from collections.abc import Callable
from typing import Any

from commerce import ingest
from commerce.reconcile import collection_refresh_enqueue
from commerce.records import (
    EmailConsentRecord,
    aware_utc,
    optional_integer,
    require,
    shopify_id,
    status_word,
)
from shop_app.install import shop_uninstall
from shop_app.models import Shop
from shop_app.work import WorkIgnored
from webhooks import privacy
from webhooks.models import WebhookEvent
from webhooks.reactions import ShopperChange, shopper_change_announce

logger = logging.getLogger(__name__)

Handler = Callable[[Shop, dict[str, Any], WebhookEvent], None]


class EventIgnored(WorkIgnored):
    """A handler found nothing to do, for a reason worth keeping: processing rolls its transaction
    back and marks the event ignored with this message as the note (replayable)."""


def _source(event: WebhookEvent) -> str:
    return f"webhook:{event.topic}"


def order_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """orders/create, updated, paid, cancelled, fulfilled: all carry the whole order."""
    record = ingest.order_record_from_webhook(payload)
    order = ingest.order_upsert(shop, record, source=_source(event), triggered_at=event.triggered_at)
    privacy.event_erase_if_shopper_erased(shop, event, customer_id=record.customer_id, email=record.email)
    shopper_change_announce(
        ShopperChange(
            shop_id=shop.pk,
            order_ids=(order.pk,),
            customer_ids=(order.customer_id,) if order.customer_id else (),
            cause=event.topic,
        ),
    )


def refund_created(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    refund = ingest.refund_record(shop, ingest.refund_record_from_webhook(payload))
    shopper_change_announce(ShopperChange(shop_id=shop.pk, refund_ids=(refund.pk,), cause=event.topic))


def customer_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """customers/create and customers/update."""
    record = ingest.customer_record_from_webhook(payload)
    customer = ingest.customer_upsert(shop, record, source=_source(event))
    privacy.event_erase_if_shopper_erased(shop, event, customer_id=record.shopify_id, email=record.email)
    shopper_change_announce(ShopperChange(shop_id=shop.pk, customer_ids=(customer.pk,), cause=event.topic))


def customer_deleted(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    customer = ingest.customer_delete(shop, shopify_id(require(payload, "id", "customer"), "customer.id"))
    shopper_change_announce(ShopperChange(shop_id=shop.pk, customer_ids=(customer.pk,), cause=event.topic))


def email_consent_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    consent = require(payload, "email_marketing_consent", "payload")
    state = status_word(require(consent, "state", "email_marketing_consent"))
    customer_id = shopify_id(require(payload, "customer_id", "payload"), "customer_id")
    if privacy.event_erase_if_shopper_erased(shop, event, customer_id=customer_id, email=""):
        return  # an erased shopper's consent is not recorded again
    ingest.consent_record(
        shop,
        customer_id,
        EmailConsentRecord(
            state=state,
            opt_in_level=status_word(consent.get("opt_in_level")),
            consent_updated_at=aware_utc(
                consent.get("consent_updated_at"), "email_marketing_consent.consent_updated_at"
            ),
        ),
        source=_source(event),
    )


def inventory_level_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    ingest.inventory_level_update(
        shop,
        inventory_item_id=shopify_id(require(payload, "inventory_item_id", "payload"), "inventory_item_id"),
        location_id=shopify_id(require(payload, "location_id", "payload"), "location_id"),
        available=optional_integer(payload.get("available"), "available"),
        updated_at=aware_utc(payload.get("updated_at"), "updated_at"),
        triggered_at=event.triggered_at,
    )


def product_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """products/create and products/update: the product with all its variants."""
    ingest.product_upsert(
        shop, ingest.product_record_from_webhook(payload, shop.currency), triggered_at=event.triggered_at
    )


def product_deleted(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    ingest.product_delete(shop, shopify_id(require(payload, "id", "product"), "product.id"))


def collection_changed(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """collections/create and collections/update (which a change of members sends too) carry the
    collection but not its members: those are read from the Admin API once this commits."""
    collection = ingest.collection_upsert(shop, ingest.collection_record_from_webhook(payload))
    if collection.deleted_at is None:
        collection_refresh_enqueue(shop, collection.shopify_id)


def collection_deleted(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    ingest.collection_delete(shop, shopify_id(require(payload, "id", "collection"), "collection.id"))


def app_uninstalled(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """Uninstall the shop, unless it installed the app again after Shopify emitted this event: a
    late delivery (a retry, a backlog) of the earlier uninstall must not end the new installation."""
    # Locked, so that an install committing now is either seen here or waits for the uninstall.
    installed_at = Shop.objects.select_for_update().values_list("installed_at", flat=True).get(pk=shop.pk)
    emitted_at = event.triggered_at or event.received_at
    if installed_at is not None and installed_at > emitted_at:
        logger.warning(
            "app/uninstalled for %s ignored: emitted at %s, the shop installed again at %s",
            shop.domain,
            emitted_at.isoformat(),
            installed_at.isoformat(),
        )
        raise EventIgnored("shop installed again after this uninstall was emitted")
    shop_uninstall(shop)


TOPIC_HANDLERS: dict[str, Handler] = {
    "orders/create": order_changed,
    "orders/updated": order_changed,
    "orders/paid": order_changed,
    "orders/cancelled": order_changed,
    "orders/fulfilled": order_changed,
    "refunds/create": refund_created,
    "customers/create": customer_changed,
    "customers/update": customer_changed,
    "customers/delete": customer_deleted,
    "customers_email_marketing_consent/update": email_consent_changed,
    "inventory_levels/update": inventory_level_changed,
    "products/create": product_changed,
    "products/update": product_changed,
    "products/delete": product_deleted,
    "collections/create": collection_changed,
    "collections/update": collection_changed,
    "collections/delete": collection_deleted,
    "app/uninstalled": app_uninstalled,
    "customers/data_request": privacy.customer_data_request_handle,
    "customers/redact": privacy.customer_redact_handle,
    "shop/redact": privacy.shop_redact_handle,
}
