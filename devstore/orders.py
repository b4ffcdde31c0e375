"""Orders, their line items and refunds (storage only; actions.py fires the webhooks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from devstore import catalog, discounts
from devstore.db import Database, Row
from devstore.formats import money, money_str, now_iso

FREE_SHIPPING_OVER = Decimal("100.00")
FLAT_SHIPPING = Decimal("5.00")


@dataclass(frozen=True)
class OrderLine:
    variant_id: int
    quantity: int


class OrderRejected(Exception):
    """Bad input for an order (unknown variant, not enough stock...)."""


def shipping_price(items_total: Decimal) -> Decimal:
    return Decimal("0") if items_total >= FREE_SHIPPING_OVER else FLAT_SHIPPING


def order_get(db: Database, shop_id: int, order_id: int) -> Row | None:
    return db.one("SELECT * FROM orders WHERE shop_id = ? AND id = ?", (shop_id, order_id))


def order_line_items(db: Database, order_id: int) -> list[Row]:
    return db.all("SELECT * FROM line_items WHERE order_id = ? ORDER BY id", (order_id,))


def order_refunds(db: Database, order_id: int) -> list[Row]:
    return db.all("SELECT * FROM refunds WHERE order_id = ? ORDER BY id", (order_id,))


def refund_line_items(db: Database, refund_id: int) -> list[Row]:
    return db.all("SELECT * FROM refund_line_items WHERE refund_id = ? ORDER BY id", (refund_id,))


def order_create(
    db: Database,
    shop: Row,
    *,
    lines: list[OrderLine],
    customer: Row | None,
    email: str | None = None,
    shipping_address: dict[str, Any] | None = None,
    discount: Row | None = None,
    discount_amounts: tuple[Decimal, Decimal] | None = None,
    financial_status: str = "PAID",
    note: str = "",
    decrement_stock: bool = True,
) -> Row:
    """Price the lines from the catalog, store the order, take the stock."""
    if not lines:
        raise OrderRejected("an order needs at least one line")
    priced: list[tuple[Row, Row, int]] = []
    for line in lines:
        variant = catalog.variant_get(db, shop["id"], line.variant_id)
        if variant is None:
            raise OrderRejected(f"variant {line.variant_id} not found")
        if line.quantity < 1:
            raise OrderRejected("quantity must be positive")
        product = catalog.product_get(db, shop["id"], variant["product_id"])
        assert product is not None
        priced.append((variant, product, line.quantity))
    items_total = sum((Decimal(v["price"]) * q for v, _, q in priced), Decimal("0"))
    shipping = shipping_price(items_total)
    off_items, off_shipping = discount_amounts or (Decimal("0"), Decimal("0"))
    subtotal = money(items_total - off_items)
    shipping = money(shipping - off_shipping)
    total = money(subtotal + shipping)
    stamp = now_iso()
    address = shipping_address
    if address is None and customer is not None:
        address = json.loads(customer["address"] or "{}") or None
        if address:
            address = {"first_name": customer["first_name"], "last_name": customer["last_name"], **address}
    codes = [] if discount is None else [discounts.discount_rest(discount, off_items + off_shipping)]
    with db.transaction() as conn:
        number = conn.execute("SELECT next_order_number FROM shops WHERE id = ?", (shop["id"],)).fetchone()[0]
        conn.execute("UPDATE shops SET next_order_number = next_order_number + 1 WHERE id = ?", (shop["id"],))
        order_id = db.insert(
            "orders",
            {
                "shop_id": shop["id"],
                "number": number,
                "name": f"#{number}",
                "email": email or (customer["email"] if customer else None),
                "customer_id": customer["id"] if customer else None,
                "currency": shop["currency"],
                "subtotal_price": money_str(subtotal),
                "total_discounts": money_str(off_items),
                "total_shipping": money_str(shipping),
                "total_price": money_str(total),
                "financial_status": financial_status,
                "discount_codes": json.dumps(codes),
                "shipping_address": json.dumps(address) if address else None,
                "note": note,
                "processed_at": stamp,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        for variant, product, quantity in priced:
            line_total = Decimal(variant["price"]) * quantity
            share = money(off_items * line_total / items_total) if items_total else Decimal("0")
            db.insert(
                "line_items",
                {
                    "shop_id": shop["id"],
                    "order_id": order_id,
                    "variant_id": variant["id"],
                    "product_id": product["id"],
                    "title": product["title"],
                    "variant_title": "" if variant["title"] == "Default Title" else variant["title"],
                    "sku": variant["sku"],
                    "quantity": quantity,
                    "price": variant["price"],
                    "total_discount": money_str(share),
                },
            )
            if decrement_stock:
                catalog.variant_stock_adjust(conn, variant["id"], -quantity, stamp)
        if customer is not None:
            customer_stats_refresh(db, shop["id"], customer["id"])
    order = order_get(db, shop["id"], order_id)
    assert order is not None
    return order


def customer_stats_refresh(db: Database, shop_id: int, customer_id: int) -> None:
    """numberOfOrders and amountSpent, derived from the orders (net of refunds)."""
    with db.transaction() as conn:
        count, spent = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(CAST(total_price AS REAL)), 0) FROM orders"
            " WHERE shop_id = ? AND customer_id = ? AND cancelled_at IS NULL",
            (shop_id, customer_id),
        ).fetchone()
        refunded = conn.execute(
            "SELECT COALESCE(SUM(CAST(r.amount AS REAL)), 0) FROM refunds r"
            " JOIN orders o ON o.id = r.order_id WHERE o.shop_id = ? AND o.customer_id = ?"
            " AND o.cancelled_at IS NULL",
            (shop_id, customer_id),
        ).fetchone()[0]
        conn.execute(
            "UPDATE customers SET orders_count = ?, amount_spent = ? WHERE id = ?",
            (count, money_str(Decimal(str(spent)) - Decimal(str(refunded))), customer_id),
        )


def order_touch(db: Database, order_id: int, values: dict[str, Any]) -> None:
    db.update("orders", order_id, {**values, "updated_at": now_iso()})


def order_refund_create(
    db: Database,
    shop_id: int,
    order: Row,
    lines: list[tuple[int, int]] | None,
    *,
    restock: bool = True,
    note: str = "",
) -> Row:
    """Refund the given (line_item_id, quantity) pairs, or everything not yet refunded."""
    items = {item["id"]: item for item in order_line_items(db, order["id"])}
    already = {
        row["line_item_id"]: row["quantity"]
        for row in db.all(
            "SELECT rli.line_item_id, SUM(rli.quantity) AS quantity FROM refund_line_items rli"
            " JOIN refunds r ON r.id = rli.refund_id WHERE r.order_id = ? GROUP BY rli.line_item_id",
            (order["id"],),
        )
    }
    if lines is None:
        lines = [(item_id, item["quantity"] - already.get(item_id, 0)) for item_id, item in items.items()]
        lines = [(i, q) for i, q in lines if q > 0]
    if not lines:
        raise OrderRejected("nothing left to refund")
    refund_lines: list[tuple[int, int, Decimal]] = []
    for item_id, quantity in lines:
        item = items.get(item_id)
        if item is None:
            raise OrderRejected(f"line item {item_id} is not on this order")
        if quantity < 1 or quantity + already.get(item_id, 0) > item["quantity"]:
            raise OrderRejected(f"cannot refund {quantity} of line item {item_id}")
        unit = Decimal(item["price"]) - Decimal(item["total_discount"]) / item["quantity"]
        refund_lines.append((item_id, quantity, money(unit * quantity)))
    amount = money(sum((s for _, _, s in refund_lines), Decimal("0")))
    stamp = now_iso()
    with db.transaction() as conn:
        refund_id = db.insert(
            "refunds",
            {
                "shop_id": shop_id,
                "order_id": order["id"],
                "note": note,
                "amount": money_str(amount),
                "created_at": stamp,
            },
        )
        for item_id, quantity, subtotal in refund_lines:
            db.insert(
                "refund_line_items",
                {
                    "refund_id": refund_id,
                    "line_item_id": item_id,
                    "quantity": quantity,
                    "subtotal": money_str(subtotal),
                    "restock": int(restock),
                },
            )
            if restock and items[item_id]["variant_id"]:
                catalog.variant_stock_adjust(conn, items[item_id]["variant_id"], quantity, stamp)
        refunded_total = conn.execute(
            "SELECT SUM(CAST(amount AS REAL)) FROM refunds WHERE order_id = ?", (order["id"],)
        ).fetchone()[0]
        status = (
            "REFUNDED"
            if Decimal(str(refunded_total)) >= Decimal(order["subtotal_price"])
            else "PARTIALLY_REFUNDED"
        )
        order_touch(db, order["id"], {"financial_status": status})
        if order["customer_id"]:
            customer_stats_refresh(db, shop_id, order["customer_id"])
    refund = db.one("SELECT * FROM refunds WHERE id = ?", (refund_id,))
    assert refund is not None
    return refund
