"""Products, variants, collections and stock of a shop."""

from __future__ import annotations

import json
import re
from typing import Any

from devstore.db import Database, Row
from devstore.formats import money_str, now_iso


def handleize(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def product_create(
    db: Database,
    shop_id: int,
    *,
    title: str,
    product_type: str = "",
    vendor: str = "",
    tags: list[str] | None = None,
    options: list[str] | None = None,
    description: str = "",
    variants: list[dict[str, Any]] | None = None,
    status: str = "ACTIVE",
    created_at: str | None = None,
) -> Row:
    """Create a product with its variants (each: price, sku, options, inventory)."""
    stamp = created_at or now_iso()
    with db.transaction():
        product_id = db.insert(
            "products",
            {
                "shop_id": shop_id,
                "title": title,
                "handle": _unique_handle(db, shop_id, title),
                "description": description,
                "product_type": product_type,
                "vendor": vendor,
                "tags": ", ".join(tags or []),
                "status": status,
                "options": json.dumps(options or ["Title"]),
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        for position, variant in enumerate(variants or [{"price": "10.00"}], start=1):
            selected = variant.get("options") or [{"name": "Title", "value": "Default Title"}]
            db.insert(
                "variants",
                {
                    "shop_id": shop_id,
                    "product_id": product_id,
                    "title": " / ".join(o["value"] for o in selected),
                    "sku": variant.get("sku", ""),
                    "price": money_str(variant.get("price", "0")),
                    "compare_at_price": variant.get("compare_at_price"),
                    "selected_options": json.dumps(selected),
                    "inventory_quantity": int(variant.get("inventory_quantity", 0)),
                    "position": position,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
    product = product_get(db, shop_id, product_id)
    assert product is not None
    return product


def _unique_handle(db: Database, shop_id: int, title: str) -> str:
    base = handleize(title) or "product"
    handle, n = base, 1
    while db.scalar("SELECT 1 FROM products WHERE shop_id = ? AND handle = ?", (shop_id, handle)):
        n += 1
        handle = f"{base}-{n}"
    return handle


def product_get(db: Database, shop_id: int, product_id: int) -> Row | None:
    return db.one("SELECT * FROM products WHERE shop_id = ? AND id = ?", (shop_id, product_id))


def product_get_by_handle(db: Database, shop_id: int, handle: str) -> Row | None:
    return db.one("SELECT * FROM products WHERE shop_id = ? AND handle = ?", (shop_id, handle))


def product_variants(db: Database, product_id: int) -> list[Row]:
    return db.all("SELECT * FROM variants WHERE product_id = ? ORDER BY position, id", (product_id,))


def product_collections(db: Database, product_id: int) -> list[Row]:
    return db.all(
        "SELECT c.* FROM collections c JOIN collection_products cp ON cp.collection_id = c.id"
        " WHERE cp.product_id = ? ORDER BY c.id",
        (product_id,),
    )


def product_list(db: Database, shop_id: int, limit: int = 50) -> list[Row]:
    return db.all(
        "SELECT * FROM products WHERE shop_id = ? AND status = 'ACTIVE' ORDER BY id LIMIT ?", (shop_id, limit)
    )


def variant_get(db: Database, shop_id: int, variant_id: int) -> Row | None:
    return db.one("SELECT * FROM variants WHERE shop_id = ? AND id = ?", (shop_id, variant_id))


def variant_stock_set(
    db: Database, shop_id: int, variant_id: int, *, available: int | None = None, delta: int = 0
) -> Row:
    """Set or adjust a variant's stock (one location per shop)."""
    with db.transaction() as conn:
        if available is not None:
            conn.execute(
                "UPDATE variants SET inventory_quantity = ?, updated_at = ? WHERE shop_id = ? AND id = ?",
                (available, now_iso(), shop_id, variant_id),
            )
        else:
            conn.execute(
                "UPDATE variants SET inventory_quantity = inventory_quantity + ?,"
                " updated_at = ? WHERE shop_id = ? AND id = ?",
                (delta, now_iso(), shop_id, variant_id),
            )
    variant = variant_get(db, shop_id, variant_id)
    if variant is None:
        raise LookupError(f"variant {variant_id} not found")
    return variant


def collection_get(db: Database, shop_id: int, collection_id: int) -> Row | None:
    return db.one("SELECT * FROM collections WHERE shop_id = ? AND id = ?", (shop_id, collection_id))


def collection_get_by_handle(db: Database, shop_id: int, handle: str) -> Row | None:
    return db.one("SELECT * FROM collections WHERE shop_id = ? AND handle = ?", (shop_id, handle))


def collection_list(db: Database, shop_id: int) -> list[Row]:
    return db.all("SELECT * FROM collections WHERE shop_id = ? ORDER BY id", (shop_id,))


def collection_products(db: Database, collection_id: int, limit: int = 100) -> list[Row]:
    return db.all(
        "SELECT p.* FROM products p JOIN collection_products cp ON cp.product_id = p.id"
        " WHERE cp.collection_id = ? AND p.status = 'ACTIVE' ORDER BY cp.position LIMIT ?",
        (collection_id, limit),
    )
