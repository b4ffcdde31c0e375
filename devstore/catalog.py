"""Products, variants, collections and stock of a shop."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from devstore.db import Database, Row
from devstore.formats import money_str, now_iso

# ProductStatus and CollectionSortOrder, as Shopify's Admin API spells them.
PRODUCT_STATUSES = ("ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED")
COLLECTION_SORT_ORDERS = (
    "ALPHA_ASC",
    "ALPHA_DESC",
    "BEST_SELLING",
    "CREATED",
    "CREATED_DESC",
    "MANUAL",
    "MOST_RELEVANT",
    "PRICE_ASC",
    "PRICE_DESC",
)
# The fields a merchant sets when making each; a handle comes from the title and can change later,
# a variant's stock is set when made and then moves through inventory (variant_stock_set).
PRODUCT_CREATE_FIELDS = ("title", "description", "product_type", "vendor", "tags", "status", "image_url")
VARIANT_CREATE_FIELDS = ("price", "compare_at_price", "sku", "inventory_quantity")
COLLECTION_CREATE_FIELDS = ("title", "description", "sort_order")
# The fields a merchant changes afterwards.
PRODUCT_FIELDS = (*PRODUCT_CREATE_FIELDS, "handle")
VARIANT_FIELDS = ("price", "compare_at_price", "sku")
COLLECTION_FIELDS = (*COLLECTION_CREATE_FIELDS, "handle")


def handleize(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def product_status(value: str) -> str:
    status = str(value).upper()
    if status not in PRODUCT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(s.lower() for s in PRODUCT_STATUSES)}")
    return status


def collection_sort_order(value: str) -> str:
    order = str(value).upper().replace("-", "_")
    if order not in COLLECTION_SORT_ORDERS:
        raise ValueError(f"sort_order must be one of {', '.join(COLLECTION_SORT_ORDERS)}")
    return order


def _title_check(title: Any) -> None:
    if not str(title).strip():
        raise ValueError("title can't be blank")


def tags_text(tags: list[str] | str | None) -> str:
    """Shopify keeps tags as one comma-separated string: each trimmed, none repeated."""
    items = tags.split(",") if isinstance(tags, str) else list(tags or [])
    return ", ".join(dict.fromkeys(t.strip() for t in items if t.strip()))


def _price(value: Any) -> str:
    try:
        return money_str(value)
    except (ArithmeticError, ValueError) as exc:
        raise ValueError(f"price {value!r} is not an amount") from exc


def _compare_at_price(value: Any) -> str | None:
    return None if value in (None, "") else _price(value)


def product_create(
    db: Database,
    shop_id: int,
    *,
    title: str,
    product_type: str = "",
    vendor: str = "",
    tags: list[str] | str | None = None,
    options: list[str] | None = None,
    description: str = "",
    variants: list[dict[str, Any]] | None = None,
    status: str = "ACTIVE",
    image_url: str = "",
    created_at: str | None = None,
) -> Row:
    """Create a product with its variants (each: price, compare_at_price, sku, options, inventory).

    Without `options`, the first variant's option names are the product's; without variants, one
    Default Title variant. Every variant names a value for each of the product's options.
    """
    _title_check(title)
    variants = variants or [{"price": "10.00"}]
    if not options:
        options = [o["name"] for o in variants[0].get("options") or []] or ["Title"]
    for variant in variants:
        names = [o["name"] for o in variant.get("options") or []] or ["Title"]
        if sorted(names) != sorted(options):
            raise ValueError(f"variant options {names} do not match the product's options {options}")
    stamp = created_at or now_iso()
    with db.transaction():
        product_id = db.insert(
            "products",
            {
                "shop_id": shop_id,
                "title": title,
                "handle": _handle_from_title(db, "products", shop_id, title),
                "description": description,
                "product_type": product_type,
                "vendor": vendor,
                "tags": tags_text(tags),
                "status": product_status(status),
                "options": json.dumps(options),
                "image_url": image_url,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        for position, variant in enumerate(variants, start=1):
            selected = variant.get("options") or [{"name": "Title", "value": "Default Title"}]
            db.insert(
                "variants",
                {
                    "shop_id": shop_id,
                    "product_id": product_id,
                    "title": " / ".join(o["value"] for o in selected),
                    "sku": variant.get("sku") or "",
                    "price": _price(variant.get("price", "0")),
                    "compare_at_price": _compare_at_price(variant.get("compare_at_price")),
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


def product_update(
    db: Database,
    shop_id: int,
    product_id: int,
    changes: dict[str, Any],
    variants: list[dict[str, Any]] | None = None,
) -> Row:
    """Change a product's fields and its variants' prices or SKUs ({id, price?, ...} each).

    Any change moves the product's updated_at, as Shopify's does, so `updated_at:>` finds it.
    """
    if product_get(db, shop_id, product_id) is None:
        raise LookupError(f"product {product_id} not found")
    fields = {k: v for k, v in changes.items() if k in PRODUCT_FIELDS}
    if "title" in fields:
        _title_check(fields["title"])
    if "status" in fields:
        fields["status"] = product_status(fields["status"])
    if "tags" in fields:
        fields["tags"] = tags_text(fields["tags"])
    if "handle" in fields:
        fields["handle"] = _handle_free(db, "products", shop_id, product_id, fields["handle"])
    own = {v["id"] for v in product_variants(db, product_id)}
    stamp = now_iso()
    with db.transaction():
        for variant in variants or []:
            variant_id = int(variant["id"])
            if variant_id not in own:
                raise LookupError(f"variant {variant_id} is not one of product {product_id}'s")
            values = {k: variant[k] for k in VARIANT_FIELDS if k in variant}
            if "price" in values:
                values["price"] = _price(values["price"])
            if "compare_at_price" in values:
                values["compare_at_price"] = _compare_at_price(values["compare_at_price"])
            if "sku" in values:
                values["sku"] = values["sku"] or ""
            db.update("variants", variant_id, {**values, "updated_at": stamp})
        db.update("products", product_id, {**fields, "updated_at": stamp})
    product = product_get(db, shop_id, product_id)
    assert product is not None
    return product


def product_delete(db: Database, shop_id: int, product_id: int) -> Row:
    """Delete a product, its variants and its collection memberships; returns the deleted row.

    Order line items keep their product and variant ids, as Shopify's do.
    """
    product = product_get(db, shop_id, product_id)
    if product is None:
        raise LookupError(f"product {product_id} not found")
    with db.transaction() as conn:
        conn.execute("DELETE FROM collection_products WHERE product_id = ?", (product_id,))
        conn.execute("DELETE FROM variants WHERE product_id = ?", (product_id,))
        conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
    return product


def _handle_taken(
    db: Database, table: str, shop_id: int, handle: str, *, other_than: int | None = None
) -> bool:
    """Whether a row of the shop's in `table`, other than row `other_than`, has `handle`."""
    return bool(
        db.scalar(
            f"SELECT 1 FROM {table} WHERE shop_id = ? AND handle = ? AND id IS NOT ?",  # noqa: S608 - identifiers are code constants; values are bound parameters
            (shop_id, handle, other_than),
        )
    )


def _handle_from_title(db: Database, table: str, shop_id: int, title: str) -> str:
    """A new row's handle: its title handleized, numbered -2, -3... past the ones taken."""
    base = handleize(title) or table.rstrip("s")
    handle, n = base, 1
    while _handle_taken(db, table, shop_id, handle):
        n += 1
        handle = f"{base}-{n}"
    return handle


def _handle_free(db: Database, table: str, shop_id: int, object_id: int, wanted: Any) -> str:
    """A handle the merchant chose: handleized, and no other row of the shop's may have it."""
    handle = handleize(str(wanted))
    if not handle or _handle_taken(db, table, shop_id, handle, other_than=object_id):
        raise ValueError(f"handle {handle!r} is blank or taken")
    return handle


def product_get(db: Database, shop_id: int, product_id: int) -> Row | None:
    return db.one("SELECT * FROM products WHERE shop_id = ? AND id = ?", (shop_id, product_id))


def product_get_by_handle(db: Database, shop_id: int, handle: str) -> Row | None:
    return db.one("SELECT * FROM products WHERE shop_id = ? AND handle = ?", (shop_id, handle))


def product_variants(db: Database, product_id: int) -> list[Row]:
    return db.all("SELECT * FROM variants WHERE product_id = ? ORDER BY position, id", (product_id,))


def product_option_id(product_id: int, position: int) -> int:
    """devstore keeps no option rows; an option's id is derived from its product and position."""
    return product_id * 10 + position


def body_html(row: Row) -> str:
    """A product's or collection's description as Shopify's HTML body (descriptionHtml,
    body_html); devstore keeps plain text."""
    return f"<p>{row['description']}</p>" if row["description"] else ""


def product_options(product: Row, variants: list[Row]) -> list[dict[str, Any]]:
    """The product's options in order, each with the values its variants use, first seen first."""
    names: list[str] = json.loads(product["options"])
    values: dict[str, list[str]] = {n: [] for n in names}
    for variant in variants:
        for option in json.loads(variant["selected_options"]):
            bucket = values.setdefault(option["name"], [])
            if option["value"] not in bucket:
                bucket.append(option["value"])
    return [
        {"name": name, "position": position, "values": values.get(name, [])}
        for position, name in enumerate(names, start=1)
    ]


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


def variant_stock_adjust(conn: sqlite3.Connection, variant_id: int, delta: int, stamp: str) -> None:
    """Move a variant's stock by `delta` (negative to take stock), inside the caller's transaction.

    One UPDATE with `inventory_quantity + ?`, so concurrent orders and restocks all count.
    """
    conn.execute(
        "UPDATE variants SET inventory_quantity = inventory_quantity + ?, updated_at = ? WHERE id = ?",
        (delta, stamp, variant_id),
    )


def variant_stock_set(
    db: Database, shop_id: int, variant_id: int, *, available: int | None = None, delta: int = 0
) -> Row:
    """Set or adjust a variant's stock (one location per shop)."""
    stamp = now_iso()
    with db.transaction() as conn:
        if variant_get(db, shop_id, variant_id) is None:
            raise LookupError(f"variant {variant_id} not found")
        if available is not None:
            conn.execute(
                "UPDATE variants SET inventory_quantity = ?, updated_at = ? WHERE id = ?",
                (available, stamp, variant_id),
            )
        else:
            variant_stock_adjust(conn, variant_id, delta, stamp)
    variant = variant_get(db, shop_id, variant_id)
    assert variant is not None
    return variant


def collection_get(db: Database, shop_id: int, collection_id: int) -> Row | None:
    return db.one("SELECT * FROM collections WHERE shop_id = ? AND id = ?", (shop_id, collection_id))


def collection_get_by_handle(db: Database, shop_id: int, handle: str) -> Row | None:
    return db.one("SELECT * FROM collections WHERE shop_id = ? AND handle = ?", (shop_id, handle))


def collection_list(db: Database, shop_id: int) -> list[Row]:
    return db.all("SELECT * FROM collections WHERE shop_id = ? ORDER BY id", (shop_id,))


def collection_products(
    db: Database, collection_id: int, limit: int = 100, *, active_only: bool = True
) -> list[Row]:
    """A collection's products in position order; the Admin API sees every status, shoppers ACTIVE."""
    return db.all(
        "SELECT p.* FROM products p JOIN collection_products cp ON cp.product_id = p.id"
        " WHERE cp.collection_id = ? AND (p.status = 'ACTIVE' OR NOT ?)"
        " ORDER BY cp.position, p.id LIMIT ?",
        (collection_id, active_only, limit),
    )


def collection_has_product(db: Database, collection_id: int, product_id: int) -> bool:
    return bool(
        db.scalar(
            "SELECT EXISTS (SELECT 1 FROM collection_products WHERE collection_id = ? AND product_id = ?)",
            (collection_id, product_id),
        )
    )


def collection_product_count(db: Database, collection_id: int) -> int:
    """Every member, drafts included (the Admin API's productsCount)."""
    return int(
        db.scalar("SELECT COUNT(*) FROM collection_products WHERE collection_id = ?", (collection_id,))
    )


def collection_product_ids(db: Database, collection_id: int) -> list[int]:
    rows = db.all(
        "SELECT product_id FROM collection_products WHERE collection_id = ? ORDER BY position, product_id",
        (collection_id,),
    )
    return [r["product_id"] for r in rows]


def collection_create(
    db: Database,
    shop_id: int,
    *,
    title: str,
    description: str = "",
    sort_order: str = "MANUAL",
    product_ids: list[int] | None = None,
) -> Row:
    """A custom (manual) collection, published when made, holding `product_ids` in that order."""
    _title_check(title)
    stamp = now_iso()
    with db.transaction():
        collection_id = db.insert(
            "collections",
            {
                "shop_id": shop_id,
                "title": title,
                "handle": _handle_from_title(db, "collections", shop_id, title),
                "description": description,
                "sort_order": collection_sort_order(sort_order),
                "published_at": stamp,
                "updated_at": stamp,
            },
        )
        _members_add(db, shop_id, collection_id, product_ids or [])
    collection = collection_get(db, shop_id, collection_id)
    assert collection is not None
    return collection


def collection_update(db: Database, shop_id: int, collection_id: int, changes: dict[str, Any]) -> Row:
    if collection_get(db, shop_id, collection_id) is None:
        raise LookupError(f"collection {collection_id} not found")
    fields = {k: v for k, v in changes.items() if k in COLLECTION_FIELDS}
    if "title" in fields:
        _title_check(fields["title"])
    if "sort_order" in fields:
        fields["sort_order"] = collection_sort_order(fields["sort_order"])
    if "handle" in fields:
        fields["handle"] = _handle_free(db, "collections", shop_id, collection_id, fields["handle"])
    db.update("collections", collection_id, {**fields, "updated_at": now_iso()})
    collection = collection_get(db, shop_id, collection_id)
    assert collection is not None
    return collection


def collection_delete(db: Database, shop_id: int, collection_id: int) -> Row:
    collection = collection_get(db, shop_id, collection_id)
    if collection is None:
        raise LookupError(f"collection {collection_id} not found")
    with db.transaction() as conn:
        conn.execute("DELETE FROM collection_products WHERE collection_id = ?", (collection_id,))
        conn.execute("DELETE FROM collections WHERE id = ?", (collection_id,))
    return collection


def collection_products_add(db: Database, shop_id: int, collection_id: int, product_ids: list[int]) -> Row:
    """Add products (at the end, in the order given); ones already in it stay where they are."""
    return _membership_change(db, shop_id, collection_id, product_ids, _members_add)


def collection_products_remove(db: Database, shop_id: int, collection_id: int, product_ids: list[int]) -> Row:
    return _membership_change(db, shop_id, collection_id, product_ids, _members_remove)


MembershipChange = Callable[[Database, int, int, list[int]], None]


def _membership_change(
    db: Database, shop_id: int, collection_id: int, product_ids: list[int], change: MembershipChange
) -> Row:
    # A membership change moves the collection's updated_at, not the products'.
    if collection_get(db, shop_id, collection_id) is None:
        raise LookupError(f"collection {collection_id} not found")
    with db.transaction():
        change(db, shop_id, collection_id, product_ids)
        db.update("collections", collection_id, {"updated_at": now_iso()})
    collection = collection_get(db, shop_id, collection_id)
    assert collection is not None
    return collection


def _members_add(db: Database, shop_id: int, collection_id: int, product_ids: list[int]) -> None:
    for product_id in product_ids:
        if product_get(db, shop_id, product_id) is None:
            raise LookupError(f"product {product_id} not found")
    position = int(
        db.scalar(
            "SELECT COALESCE(MAX(position), -1) FROM collection_products WHERE collection_id = ?",
            (collection_id,),
        )
    )
    for product_id in dict.fromkeys(product_ids):
        position += 1
        db.execute(
            "INSERT OR IGNORE INTO collection_products (collection_id, product_id, position)"
            " VALUES (?, ?, ?)",
            (collection_id, product_id, position),
        )


def _members_remove(db: Database, shop_id: int, collection_id: int, product_ids: list[int]) -> None:
    for product_id in product_ids:
        db.execute(
            "DELETE FROM collection_products WHERE collection_id = ? AND product_id = ?",
            (collection_id, product_id),
        )
