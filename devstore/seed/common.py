"""What both seeders share: clearing a shop's data before writing history."""

from __future__ import annotations

from devstore.db import Database

SHOP_TABLES = (
    "webhook_deliveries",
    "bulk_operations",
    "discounts",
    "refunds",
    "line_items",
    "orders",
    "metafields",
    "customers",
    "collections",
    "variants",
    "products",
)


def shop_data_clear(db: Database, shop_id: int) -> None:
    """Forget a shop's catalog, customers and orders; keep the shop, install and tokens."""
    with db.transaction() as conn:
        conn.execute(
            "DELETE FROM refund_line_items WHERE refund_id IN (SELECT id FROM refunds WHERE shop_id = ?)",
            (shop_id,),
        )
        conn.execute(
            "DELETE FROM collection_products WHERE collection_id IN"
            " (SELECT id FROM collections WHERE shop_id = ?)",
            (shop_id,),
        )
        conn.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN"
            " (SELECT id FROM webhook_deliveries WHERE shop_id = ?)",
            (shop_id,),
        )
        for table in SHOP_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE shop_id = ?", (shop_id,))  # noqa: S608 - identifiers are code constants; values are bound parameters
        conn.execute("UPDATE shops SET next_order_number = 1001 WHERE id = ?", (shop_id,))


def next_id(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}") or 0) + 1  # noqa: S608 - identifiers are code constants; values are bound parameters
