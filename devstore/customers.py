"""Customers of a shop and their metafields."""

from __future__ import annotations

import json
from typing import Any

from devstore.db import Database, Row
from devstore.formats import now_iso

CUSTOMER_FIELDS = ("email", "first_name", "last_name", "phone", "tags", "note", "state")
MARKETING_STATES = ("NOT_SUBSCRIBED", "PENDING", "SUBSCRIBED", "UNSUBSCRIBED", "REDACTED", "INVALID")


def customer_create(
    db: Database,
    shop_id: int,
    *,
    email: str | None,
    first_name: str = "",
    last_name: str = "",
    phone: str | None = None,
    tags: list[str] | str = "",
    address: dict[str, Any] | None = None,
    marketing_state: str = "NOT_SUBSCRIBED",
    created_at: str | None = None,
    note: str = "",
) -> Row:
    stamp = created_at or now_iso()
    customer_id = db.insert(
        "customers",
        {
            "shop_id": shop_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
            "tags": tags if isinstance(tags, str) else ", ".join(tags),
            "address": json.dumps(address or {}),
            "marketing_state": marketing_state,
            "consent_updated_at": stamp if marketing_state != "NOT_SUBSCRIBED" else None,
            "note": note,
            "created_at": stamp,
            "updated_at": stamp,
        },
    )
    customer = customer_get(db, shop_id, customer_id)
    assert customer is not None
    return customer


def customer_get(db: Database, shop_id: int, customer_id: int) -> Row | None:
    return db.one("SELECT * FROM customers WHERE shop_id = ? AND id = ?", (shop_id, customer_id))


def customer_get_by_email(db: Database, shop_id: int, email: str) -> Row | None:
    return db.one("SELECT * FROM customers WHERE shop_id = ? AND lower(email) = lower(?)", (shop_id, email))


def customer_list(db: Database, shop_id: int, limit: int = 50) -> list[Row]:
    return db.all("SELECT * FROM customers WHERE shop_id = ? ORDER BY id LIMIT ?", (shop_id, limit))


def customer_update(db: Database, shop_id: int, customer_id: int, changes: dict[str, Any]) -> Row:
    values: dict[str, Any] = {}
    for key in CUSTOMER_FIELDS:
        if key in changes:
            value = changes[key]
            values[key] = ", ".join(value) if key == "tags" and isinstance(value, list) else value
    if "address" in changes:
        values["address"] = json.dumps(changes["address"] or {})
    values["updated_at"] = now_iso()
    db.update("customers", customer_id, values)
    customer = customer_get(db, shop_id, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found")
    return customer


def customer_consent_set(
    db: Database,
    shop_id: int,
    customer_id: int,
    *,
    state: str,
    opt_in_level: str = "SINGLE_OPT_IN",
    updated_at: str | None = None,
) -> Row:
    if state not in MARKETING_STATES:
        raise ValueError(f"unknown marketing state {state}")
    stamp = now_iso()
    db.update(
        "customers",
        customer_id,
        {
            "marketing_state": state,
            "marketing_opt_in_level": opt_in_level,
            "consent_updated_at": updated_at or stamp,
            "updated_at": stamp,
        },
    )
    customer = customer_get(db, shop_id, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found")
    return customer


def customer_delete(db: Database, shop_id: int, customer_id: int) -> None:
    with db.transaction() as conn:
        conn.execute(
            "DELETE FROM metafields WHERE shop_id = ? AND owner_type = 'Customer' AND owner_id = ?",
            (shop_id, customer_id),
        )
        # Shopify keeps the orders of a deleted customer, detached from them.
        conn.execute(
            "UPDATE orders SET customer_id = NULL WHERE shop_id = ? AND customer_id = ?",
            (shop_id, customer_id),
        )
        conn.execute("DELETE FROM customers WHERE shop_id = ? AND id = ?", (shop_id, customer_id))


def customer_address(customer: Row) -> dict[str, Any]:
    address: dict[str, Any] = json.loads(customer["address"] or "{}")
    return address


def metafield_set(
    db: Database,
    shop_id: int,
    *,
    owner_type: str,
    owner_id: int,
    namespace: str,
    key: str,
    value: str,
    type_: str,
) -> Row:
    stamp = now_iso()
    db.execute(
        "INSERT INTO metafields (shop_id, owner_type, owner_id, namespace, key, type, value,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (shop_id, owner_type, owner_id, namespace, key)"
        " DO UPDATE SET value = excluded.value, type = excluded.type,"
        " updated_at = excluded.updated_at",
        (shop_id, owner_type, owner_id, namespace, key, type_, value, stamp, stamp),
    )
    row = metafield_get(db, shop_id, owner_type, owner_id, namespace, key)
    assert row is not None
    return row


def metafield_get(  # noqa: PLR0917
    db: Database, shop_id: int, owner_type: str, owner_id: int, namespace: str, key: str
) -> Row | None:
    return db.one(
        "SELECT * FROM metafields WHERE shop_id = ? AND owner_type = ?"
        " AND owner_id = ? AND namespace = ? AND key = ?",
        (shop_id, owner_type, owner_id, namespace, key),
    )


def metafield_list(
    db: Database, shop_id: int, owner_type: str, owner_id: int, namespace: str | None = None
) -> list[Row]:
    if namespace is None:
        return db.all(
            "SELECT * FROM metafields WHERE shop_id = ? AND owner_type = ? AND owner_id = ? ORDER BY id",
            (shop_id, owner_type, owner_id),
        )
    return db.all(
        "SELECT * FROM metafields WHERE shop_id = ? AND owner_type = ?"
        " AND owner_id = ? AND namespace = ? ORDER BY id",
        (shop_id, owner_type, owner_id, namespace),
    )
