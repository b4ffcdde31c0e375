"""Changes to a shop's data that Shopify announces by webhook.

Every function here changes the data first, then enqueues the topics Shopify would send
for that change. Seeding writes history directly and fires nothing.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from devstore import auth, catalog, customers, discounts, orders, payloads
from devstore.context import Devstore
from devstore.db import Row
from devstore.formats import now_iso
from devstore.orders import OrderLine, OrderRejected


def _fire(ds: Devstore, shop: Row, topic: str, payload: dict[str, Any]) -> None:
    # Uninstalled apps get nothing, except the app/uninstalled notice and privacy topics.
    if topic not in ("app/uninstalled", "shop/redact") and not auth.installation_is_active(ds.db, shop["id"]):
        return
    ds.webhooks.enqueue(shop, topic, payload)


def _fire_order(ds: Devstore, shop: Row, order_id: int, *topics: str) -> Row:
    order = orders.order_get(ds.db, shop["id"], order_id)
    assert order is not None
    body = payloads.order_payload(ds.db, order, shop)
    for topic in topics:
        _fire(ds, shop, topic, body)
    return order


def _fire_stock(ds: Devstore, shop: Row, variant_ids: list[int]) -> None:
    for variant_id in dict.fromkeys(variant_ids):
        variant = catalog.variant_get(ds.db, shop["id"], variant_id)
        if variant is not None:
            _fire(ds, shop, "inventory_levels/update", payloads.inventory_level_payload(variant))


def order_place(
    ds: Devstore,
    shop: Row,
    *,
    lines: list[OrderLine],
    customer_id: int | None = None,
    email: str | None = None,
    discount_code: str | None = None,
    shipping_address: dict[str, Any] | None = None,
    financial_status: str = "PAID",
    note: str = "",
) -> Row:
    """A checkout completes: the order, its stock, its discount, its webhooks."""
    customer = None
    if customer_id is not None:
        customer = customers.customer_get(ds.db, shop["id"], customer_id)
        if customer is None:
            raise OrderRejected(f"customer {customer_id} not found")
    elif email:
        customer = customers.customer_get_by_email(ds.db, shop["id"], email)
    items_total = Decimal("0")
    for line in lines:
        variant = catalog.variant_get(ds.db, shop["id"], line.variant_id)
        if variant is None:
            raise OrderRejected(f"variant {line.variant_id} not found")
        if variant["inventory_quantity"] < line.quantity:
            raise OrderRejected(
                f"variant {line.variant_id} has only {variant['inventory_quantity']} in stock"
            )
        items_total += Decimal(variant["price"]) * line.quantity
    discount, amounts = None, None
    if discount_code:
        try:
            discount = discounts.discount_check(
                ds.db, shop["id"], discount_code, customer["id"] if customer else None, items_total
            )
        except discounts.DiscountRejected as exc:
            raise OrderRejected(str(exc)) from exc
        amounts = discounts.discount_amount(
            discount, items_total, orders.shipping_price(items_total), sum(line.quantity for line in lines)
        )
    new_customer = False
    if customer is None and email:
        customer = customers.customer_create(ds.db, shop["id"], email=email)
        new_customer = True
    order = orders.order_create(
        ds.db,
        shop,
        lines=lines,
        customer=customer,
        email=email,
        shipping_address=shipping_address,
        discount=discount,
        discount_amounts=amounts,
        financial_status=financial_status,
        note=note,
    )
    if discount is not None:
        discounts.discount_record_use(ds.db, discount["id"])
    if customer is not None:
        customer = customers.customer_get(ds.db, shop["id"], customer["id"])
        assert customer is not None
        topic = "customers/create" if new_customer else "customers/update"
        _fire(ds, shop, topic, payloads.customer_payload(customer, shop))
    topics = ["orders/create"] + (["orders/paid"] if financial_status == "PAID" else [])
    _fire_order(ds, shop, order["id"], *topics)
    _fire_stock(ds, shop, [line.variant_id for line in lines])
    return order


def _order_or_raise(ds: Devstore, shop: Row, order_id: int) -> Row:
    order = orders.order_get(ds.db, shop["id"], order_id)
    if order is None:
        raise LookupError(f"order {order_id} not found")
    return order


def order_update(ds: Devstore, shop: Row, order_id: int, changes: dict[str, Any]) -> Row:
    _order_or_raise(ds, shop, order_id)
    allowed = {k: v for k, v in changes.items() if k in ("note", "tags", "email")}
    if "shipping_address" in changes:
        allowed["shipping_address"] = json.dumps(changes["shipping_address"])
    orders.order_touch(ds.db, order_id, allowed)
    return _fire_order(ds, shop, order_id, "orders/updated")


def order_mark_paid(ds: Devstore, shop: Row, order_id: int) -> Row:
    _order_or_raise(ds, shop, order_id)
    orders.order_touch(ds.db, order_id, {"financial_status": "PAID"})
    return _fire_order(ds, shop, order_id, "orders/paid", "orders/updated")


def order_cancel(
    ds: Devstore, shop: Row, order_id: int, *, reason: str = "CUSTOMER", restock: bool = True
) -> Row:
    order = _order_or_raise(ds, shop, order_id)
    if order["cancelled_at"]:
        raise OrderRejected("order is already cancelled")
    stamp = now_iso()
    items = orders.order_line_items(ds.db, order_id)
    with ds.db.transaction() as conn:
        status = "VOIDED" if order["financial_status"] in ("PENDING", "AUTHORIZED") else "REFUNDED"
        orders.order_touch(
            ds.db,
            order_id,
            {
                "cancelled_at": stamp,
                "closed_at": stamp,
                "cancel_reason": reason.upper(),
                "financial_status": status,
            },
        )
        if restock:
            for item in items:
                if item["variant_id"]:
                    catalog.variant_stock_adjust(conn, item["variant_id"], item["quantity"], stamp)
        if order["customer_id"]:
            orders.customer_stats_refresh(ds.db, shop["id"], order["customer_id"])
    result = _fire_order(ds, shop, order_id, "orders/cancelled", "orders/updated")
    if restock:
        _fire_stock(ds, shop, [i["variant_id"] for i in items if i["variant_id"]])
    return result


def order_fulfill(ds: Devstore, shop: Row, order_id: int) -> Row:
    _order_or_raise(ds, shop, order_id)
    with ds.db.transaction() as conn:
        conn.execute("UPDATE line_items SET fulfilled_quantity = quantity WHERE order_id = ?", (order_id,))
        orders.order_touch(ds.db, order_id, {"fulfillment_status": "FULFILLED"})
    return _fire_order(ds, shop, order_id, "orders/fulfilled", "orders/updated")


def order_refund(
    ds: Devstore,
    shop: Row,
    order_id: int,
    lines: list[tuple[int, int]] | None,
    *,
    restock: bool = True,
    note: str = "",
) -> Row:
    order = _order_or_raise(ds, shop, order_id)
    refund = orders.order_refund_create(ds.db, shop["id"], order, lines, restock=restock, note=note)
    order = _order_or_raise(ds, shop, order_id)
    _fire(ds, shop, "refunds/create", payloads.refund_payload(ds.db, refund, order))
    _fire_order(ds, shop, order_id, "orders/updated")
    if restock:
        items = {i["id"]: i for i in orders.order_line_items(ds.db, order_id)}
        _fire_stock(
            ds,
            shop,
            [
                items[r["line_item_id"]]["variant_id"]
                for r in orders.refund_line_items(ds.db, refund["id"])
                if items[r["line_item_id"]]["variant_id"]
            ],
        )
    return refund


def customer_create(ds: Devstore, shop: Row, **fields: Any) -> Row:
    customer = customers.customer_create(ds.db, shop["id"], **fields)
    _fire(ds, shop, "customers/create", payloads.customer_payload(customer, shop))
    return customer


def customer_update(ds: Devstore, shop: Row, customer_id: int, changes: dict[str, Any]) -> Row:
    if customers.customer_get(ds.db, shop["id"], customer_id) is None:
        raise LookupError(f"customer {customer_id} not found")
    customer = customers.customer_update(ds.db, shop["id"], customer_id, changes)
    _fire(ds, shop, "customers/update", payloads.customer_payload(customer, shop))
    return customer


def customer_delete(ds: Devstore, shop: Row, customer_id: int) -> None:
    customer = customers.customer_get(ds.db, shop["id"], customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found")
    customers.customer_delete(ds.db, shop["id"], customer_id)
    _fire(ds, shop, "customers/delete", payloads.customer_deleted_payload(customer))


def customer_consent_update(
    ds: Devstore,
    shop: Row,
    customer_id: int,
    *,
    state: str,
    opt_in_level: str = "SINGLE_OPT_IN",
    consent_updated_at: str | None = None,
) -> Row:
    if customers.customer_get(ds.db, shop["id"], customer_id) is None:
        raise LookupError(f"customer {customer_id} not found")
    customer = customers.customer_consent_set(
        ds.db, shop["id"], customer_id, state=state, opt_in_level=opt_in_level, updated_at=consent_updated_at
    )
    _fire(ds, shop, "customers_email_marketing_consent/update", payloads.consent_payload(customer))
    _fire(ds, shop, "customers/update", payloads.customer_payload(customer, shop))
    return customer


def stock_set(
    ds: Devstore, shop: Row, variant_id: int, *, available: int | None = None, delta: int = 0
) -> Row:
    if catalog.variant_get(ds.db, shop["id"], variant_id) is None:
        raise LookupError(f"variant {variant_id} not found")
    variant = catalog.variant_stock_set(ds.db, shop["id"], variant_id, available=available, delta=delta)
    _fire(ds, shop, "inventory_levels/update", payloads.inventory_level_payload(variant))
    return variant


def product_create(ds: Devstore, shop: Row, **fields: Any) -> Row:
    product = catalog.product_create(ds.db, shop["id"], **fields)
    _fire(ds, shop, "products/create", payloads.product_payload(ds.db, product))
    return product


def product_update(
    ds: Devstore,
    shop: Row,
    product_id: int,
    changes: dict[str, Any],
    variants: list[dict[str, Any]] | None = None,
) -> Row:
    """A merchant edits a product or its variants' prices: one products/update with all of it."""
    product = catalog.product_update(ds.db, shop["id"], product_id, changes, variants)
    _fire(ds, shop, "products/update", payloads.product_payload(ds.db, product))
    return product


def product_delete(ds: Devstore, shop: Row, product_id: int) -> None:
    # Shopify announces only the product; its collections' memberships go with it silently.
    product = catalog.product_delete(ds.db, shop["id"], product_id)
    _fire(ds, shop, "products/delete", payloads.product_deleted_payload(product))


def collection_create(ds: Devstore, shop: Row, **fields: Any) -> Row:
    collection = catalog.collection_create(ds.db, shop["id"], **fields)
    _fire(ds, shop, "collections/create", payloads.collection_payload(collection))
    return collection


def collection_update(ds: Devstore, shop: Row, collection_id: int, changes: dict[str, Any]) -> Row:
    collection = catalog.collection_update(ds.db, shop["id"], collection_id, changes)
    _fire(ds, shop, "collections/update", payloads.collection_payload(collection))
    return collection


def collection_delete(ds: Devstore, shop: Row, collection_id: int) -> None:
    collection = catalog.collection_delete(ds.db, shop["id"], collection_id)
    _fire(ds, shop, "collections/delete", payloads.collection_deleted_payload(collection))


def collection_products_add(ds: Devstore, shop: Row, collection_id: int, product_ids: list[int]) -> Row:
    """Products added from the collection's side: Shopify sends collections/update, not products/update."""
    collection = catalog.collection_products_add(ds.db, shop["id"], collection_id, product_ids)
    _fire(ds, shop, "collections/update", payloads.collection_payload(collection))
    return collection


def collection_products_remove(ds: Devstore, shop: Row, collection_id: int, product_ids: list[int]) -> Row:
    collection = catalog.collection_products_remove(ds.db, shop["id"], collection_id, product_ids)
    _fire(ds, shop, "collections/update", payloads.collection_payload(collection))
    return collection


def app_uninstall(ds: Devstore, shop: Row) -> None:
    auth.installation_uninstall(ds.db, shop["id"], ds.config.app_toml.scopes)
    ds.webhooks.enqueue(shop, "app/uninstalled", payloads.shop_payload(shop))


# Shopify numbers data requests; a process-wide counter is enough here.
_data_request_ids = itertools.count(1)


def privacy_send(ds: Devstore, shop: Row, topic: str, customer_id: int | None = None) -> None:
    """The mandatory compliance topics, on demand."""
    if topic == "shop/redact":
        ds.webhooks.enqueue(shop, topic, payloads.shop_redact_payload(shop))
        return
    if customer_id is None:
        raise ValueError(f"{topic} needs a customer_id")
    customer = customers.customer_get(ds.db, shop["id"], customer_id)
    order_ids = [
        r["id"]
        for r in ds.db.all(
            "SELECT id FROM orders WHERE shop_id = ? AND customer_id = ? ORDER BY id",
            (shop["id"], customer_id),
        )
    ]
    if topic == "customers/data_request":
        body = payloads.customers_data_request_payload(
            shop, customer, customer_id, order_ids, next(_data_request_ids)
        )
    elif topic == "customers/redact":
        body = payloads.customers_redact_payload(shop, customer, customer_id, order_ids)
    else:
        raise ValueError(f"unknown privacy topic {topic}")
    ds.webhooks.enqueue(shop, topic, body)
