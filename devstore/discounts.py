"""Discount codes: created through the Admin API, redeemed at checkout."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from devstore.db import Database, Row
from devstore.formats import iso_parse, money, now_iso


class DiscountRejected(Exception):
    """The code exists but cannot be used for this checkout."""


def discount_create(
    db: Database,
    shop_id: int,
    *,
    kind: str,
    title: str,
    code: str,
    value_type: str,
    value: Decimal | str,
    customer_ids: list[int],
    usage_limit: int | None,
    applies_once_per_customer: bool,
    starts_at: str | None,
    ends_at: str | None,
    applies_on_each_item: bool = False,
    minimum_subtotal: str | None = None,
) -> Row:
    """Store a code; raises sqlite3.IntegrityError when the shop already has it."""
    discount_id = db.insert(
        "discounts",
        {
            "shop_id": shop_id,
            "kind": kind,
            "title": title,
            "code": code,
            "value_type": value_type,
            "value": str(value),
            "applies_on_each_item": int(applies_on_each_item),
            "customer_ids": json.dumps(customer_ids),
            "usage_limit": usage_limit,
            "applies_once_per_customer": int(applies_once_per_customer),
            "minimum_subtotal": minimum_subtotal,
            "starts_at": starts_at or now_iso(),
            "ends_at": ends_at,
            "created_at": now_iso(),
        },
    )
    row = discount_get(db, shop_id, discount_id)
    assert row is not None
    return row


def discount_get(db: Database, shop_id: int, discount_id: int) -> Row | None:
    return db.one("SELECT * FROM discounts WHERE shop_id = ? AND id = ?", (shop_id, discount_id))


def discount_get_by_code(db: Database, shop_id: int, code: str) -> Row | None:
    return db.one("SELECT * FROM discounts WHERE shop_id = ? AND code = ? COLLATE NOCASE", (shop_id, code))


def discount_list(db: Database, shop_id: int) -> list[Row]:
    return db.all("SELECT * FROM discounts WHERE shop_id = ? ORDER BY id", (shop_id,))


def discount_customer_ids(discount: Row) -> list[int]:
    ids: list[int] = json.loads(discount["customer_ids"] or "[]")
    return ids


def discount_status(discount: Row, now: str | None = None) -> str:
    stamp = iso_parse(now or now_iso())
    if iso_parse(discount["starts_at"]) > stamp:
        return "SCHEDULED"
    if discount["ends_at"] and iso_parse(discount["ends_at"]) <= stamp:
        return "EXPIRED"
    return "ACTIVE"


def discount_check(db: Database, shop_id: int, code: str, customer_id: int | None, subtotal: Decimal) -> Row:
    """The discount a checkout may use, or DiscountRejected with Shopify's reason."""
    discount = discount_get_by_code(db, shop_id, code)
    if discount is None:
        raise DiscountRejected("Enter a valid discount code")
    if discount_status(discount) != "ACTIVE":
        raise DiscountRejected("Discount code isn't active")
    eligible = discount_customer_ids(discount)
    if eligible and customer_id not in eligible:
        raise DiscountRejected("Discount code isn't valid for this customer")
    if discount["usage_limit"] is not None and discount["usage_count"] >= discount["usage_limit"]:
        raise DiscountRejected("Discount code usage limit has been reached")
    if discount["applies_once_per_customer"] and customer_id is not None:
        used = db.scalar(
            "SELECT COUNT(*) FROM orders WHERE shop_id = ? AND customer_id = ? AND discount_codes LIKE ?",
            (shop_id, customer_id, f'%"code": "{discount["code"]}"%'),
        )
        if used:
            raise DiscountRejected("Discount code has already been used")
    if discount["minimum_subtotal"] and subtotal < Decimal(discount["minimum_subtotal"]):
        raise DiscountRejected("Minimum subtotal not met")
    return discount


def discount_amount(
    discount: Row, subtotal: Decimal, shipping: Decimal, item_count: int
) -> tuple[Decimal, Decimal]:
    """(amount off the items, amount off shipping)."""
    if discount["kind"] == "free_shipping":
        return Decimal("0"), shipping
    value = Decimal(discount["value"])
    if discount["value_type"] == "percentage":
        # Shopify stores percentages as a fraction (0.1 = 10%).
        fraction = value if value <= 1 else value / 100
        return money(min(subtotal, subtotal * fraction)), Decimal("0")
    amount = value * item_count if discount["applies_on_each_item"] else value
    return money(min(subtotal, amount)), Decimal("0")


def discount_record_use(db: Database, discount_id: int) -> None:
    db.execute("UPDATE discounts SET usage_count = usage_count + 1 WHERE id = ?", (discount_id,))


def discount_rest(discount: Row, amount: Decimal) -> dict[str, Any]:
    kind = "shipping" if discount["kind"] == "free_shipping" else discount["value_type"]
    return {"code": discount["code"], "amount": str(money(amount)), "type": kind}
