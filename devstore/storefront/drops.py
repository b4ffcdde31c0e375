"""Liquid objects as Shopify themes see them: prices in cents, `url`s, `available`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from devstore import catalog, customers
from devstore.db import Database, Row
from devstore.storefront.images import product_image_url
from devstore.storefront.money import money_format_for, money_with_currency_format_for


def cents(amount: str | Decimal) -> int:
    return int(Decimal(amount) * 100)


def shop_drop(shop: Row) -> dict[str, Any]:
    return {
        "id": shop["id"],
        "name": shop["name"],
        "email": shop["email"],
        "permanent_domain": shop["domain"],
        "domain": shop["domain"],
        "currency": shop["currency"],
        "url": "",
        "money_format": money_format_for(shop["currency"]),
        "money_with_currency_format": money_with_currency_format_for(shop["currency"]),
    }


def variant_drop(row: Row) -> dict[str, Any]:
    options = json.loads(row["selected_options"])
    return {
        "id": row["id"],
        "title": row["title"],
        "sku": row["sku"],
        "price": cents(row["price"]),
        "available": row["inventory_quantity"] > 0,
        "inventory_quantity": row["inventory_quantity"],
        "options": [o["value"] for o in options],
        **{f"option{i}": o["value"] for i, o in enumerate(options, start=1)},
    }


def product_drop(db: Database, row: Row) -> dict[str, Any]:
    variants = [variant_drop(v) for v in catalog.product_variants(db, row["id"])]
    prices = [v["price"] for v in variants] or [0]
    return {
        "id": row["id"],
        "title": row["title"],
        "handle": row["handle"],
        "description": row["description"],
        "type": row["product_type"],
        "vendor": row["vendor"],
        "tags": [t.strip() for t in row["tags"].split(",") if t.strip()],
        "url": f"/products/{row['handle']}",
        "price": min(prices),
        "price_min": min(prices),
        "price_max": max(prices),
        "available": any(v["available"] for v in variants),
        "variants": variants,
        "options": json.loads(row["options"]),
        "selected_or_first_available_variant": next(
            (v for v in variants if v["available"]), variants[0] if variants else None
        ),
        # A product without a picture gets its drawn one, as a theme shows a placeholder.
        "featured_image": row["image_url"] or product_image_url(row["handle"]),
    }


def collection_drop(db: Database, row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "handle": row["handle"],
        "url": f"/collections/{row['handle']}",
        "products": [product_drop(db, p) for p in catalog.collection_products(db, row["id"])],
    }


def customer_drop(db: Database, row: Row | None) -> dict[str, Any] | None:
    """None when signed out: `{% if customer %}` is how themes test for a shopper."""
    if row is None:
        return None
    address = customers.customer_address(row)
    return {
        "id": row["id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "name": f"{row['first_name']} {row['last_name']}".strip(),
        "tags": [t.strip() for t in row["tags"].split(",") if t.strip()],
        "orders_count": row["orders_count"],
        "total_spent": cents(row["amount_spent"]),
        "accepts_marketing": row["marketing_state"] == "SUBSCRIBED",
        "default_address": address or None,
        "orders": [
            order_drop(order)
            for order in db.all(
                "SELECT * FROM orders WHERE shop_id = ? AND customer_id = ?"
                " ORDER BY created_at DESC, id DESC LIMIT 20",
                (row["shop_id"], row["id"]),
            )
        ],
    }


def order_drop(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "currency": row["currency"],
        "subtotal_price": cents(row["subtotal_price"]),
        "total_discounts": cents(row["total_discounts"]),
        "total_price": cents(row["total_price"]),
        "created_at": row["created_at"],
        "financial_status": row["financial_status"].lower(),
        "fulfillment_status": row["fulfillment_status"].lower(),
    }


def cart_drop(db: Database, shop_id: int, lines: list[dict[str, int]]) -> dict[str, Any]:
    items = []
    for line in lines:
        variant = catalog.variant_get(db, shop_id, line["variant_id"])
        if variant is None:
            continue
        product = catalog.product_get(db, shop_id, variant["product_id"])
        price = cents(variant["price"])
        items.append(
            {
                "variant_id": variant["id"],
                "product_id": variant["product_id"],
                "title": product["title"] if product else "",
                "quantity": line["quantity"],
                "variant_title": variant["title"],
                "price": price,
                "line_price": price * line["quantity"],
                "url": f"/products/{product['handle']}" if product else "#",
                "image": (product["image_url"] or product_image_url(product["handle"])) if product else None,
            }
        )
    return {
        "items": items,
        "item_count": sum(i["quantity"] for i in items),
        "total_price": sum(i["line_price"] for i in items),
    }
