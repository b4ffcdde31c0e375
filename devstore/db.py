"""SQLite storage: one connection per thread, WAL, schema created on start."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Row = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS shops (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    timezone TEXT NOT NULL DEFAULT 'America/New_York',
    country_code TEXT NOT NULL DEFAULT 'US',
    plan TEXT NOT NULL DEFAULT 'Basic',
    next_order_number INTEGER NOT NULL DEFAULT 1001,
    created_at TEXT NOT NULL
);
-- One app (the API key from the environment) per shop: its install state and scopes.
CREATE TABLE IF NOT EXISTS installations (
    shop_id INTEGER PRIMARY KEY REFERENCES shops(id),
    scopes TEXT NOT NULL,
    installed INTEGER NOT NULL DEFAULT 1,
    installed_at TEXT NOT NULL,
    uninstalled_at TEXT
);
-- kind (auth.KIND_*): only an expiring offline token comes with a refresh token, and issuing one
-- revokes the earlier expiring offline tokens, not online or client credentials ones.
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    scopes TEXT NOT NULL,
    expires_at REAL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT 'offline' CHECK (kind IN ('offline', 'online', 'client_credentials'))
);
-- A used refresh token keeps working (used_at set) until the pair that replaced it is used;
-- `replaces` names the refresh token a pair's refresh token was issued for (auth.token_refresh).
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    access_token TEXT NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    used_at REAL,
    replaces TEXT
);
-- Read on each use of an expiring offline token (auth.access_token_check).
CREATE INDEX IF NOT EXISTS refresh_tokens_access_token ON refresh_tokens(access_token);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    scopes TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    handle TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    product_type TEXT NOT NULL DEFAULT '',
    vendor TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    options TEXT NOT NULL DEFAULT '[]',
    image_url TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (shop_id, handle)
);
CREATE TABLE IF NOT EXISTS variants (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(id),
    title TEXT NOT NULL,
    sku TEXT NOT NULL DEFAULT '',
    price TEXT NOT NULL,
    compare_at_price TEXT,
    selected_options TEXT NOT NULL DEFAULT '[]',
    inventory_quantity INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS variants_product ON variants(product_id);
-- Custom (manual) collections; sort_order is a CollectionSortOrder value.
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    handle TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    sort_order TEXT NOT NULL DEFAULT 'MANUAL',
    published_at TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (shop_id, handle)
);
CREATE TABLE IF NOT EXISTS collection_products (
    collection_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (collection_id, product_id)
);
CREATE INDEX IF NOT EXISTS collection_products_product ON collection_products(product_id);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    email TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT,
    tags TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'ENABLED',
    note TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '{}',
    marketing_state TEXT NOT NULL DEFAULT 'NOT_SUBSCRIBED',
    marketing_opt_in_level TEXT NOT NULL DEFAULT 'SINGLE_OPT_IN',
    consent_updated_at TEXT,
    orders_count INTEGER NOT NULL DEFAULT 0,
    amount_spent TEXT NOT NULL DEFAULT '0.00',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_shop_updated ON customers(shop_id, updated_at, id);
CREATE TABLE IF NOT EXISTS metafields (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (shop_id, owner_type, owner_id, namespace, key)
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    customer_id INTEGER,
    currency TEXT NOT NULL,
    subtotal_price TEXT NOT NULL,
    total_discounts TEXT NOT NULL DEFAULT '0.00',
    total_tax TEXT NOT NULL DEFAULT '0.00',
    total_shipping TEXT NOT NULL DEFAULT '0.00',
    total_price TEXT NOT NULL,
    financial_status TEXT NOT NULL DEFAULT 'PAID',
    fulfillment_status TEXT NOT NULL DEFAULT 'UNFULFILLED',
    discount_codes TEXT NOT NULL DEFAULT '[]',
    shipping_address TEXT,
    note TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    cancel_reason TEXT,
    cancelled_at TEXT,
    closed_at TEXT,
    processed_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_shop_updated ON orders(shop_id, updated_at, id);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id);
CREATE TABLE IF NOT EXISTS line_items (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    variant_id INTEGER,
    product_id INTEGER,
    title TEXT NOT NULL,
    variant_title TEXT NOT NULL DEFAULT '',
    sku TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL,
    price TEXT NOT NULL,
    total_discount TEXT NOT NULL DEFAULT '0.00',
    fulfilled_quantity INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS line_items_order ON line_items(order_id);
CREATE TABLE IF NOT EXISTS refunds (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    amount TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_order ON refunds(order_id);
CREATE TABLE IF NOT EXISTS refund_line_items (
    id INTEGER PRIMARY KEY,
    refund_id INTEGER NOT NULL,
    line_item_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    subtotal TEXT NOT NULL,
    restock INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS refund_line_items_refund ON refund_line_items(refund_id);
CREATE TABLE IF NOT EXISTS store_credit_transactions (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS store_credit_customer ON store_credit_transactions(shop_id, customer_id);
CREATE TABLE IF NOT EXISTS discounts (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    code TEXT NOT NULL,
    value_type TEXT NOT NULL,
    value TEXT NOT NULL,
    applies_on_each_item INTEGER NOT NULL DEFAULT 0,
    customer_ids TEXT NOT NULL DEFAULT '[]',
    usage_limit INTEGER,
    applies_once_per_customer INTEGER NOT NULL DEFAULT 0,
    usage_count INTEGER NOT NULL DEFAULT 0,
    minimum_subtotal TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (shop_id, code COLLATE NOCASE)
);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    uri TEXT NOT NULL,
    format TEXT NOT NULL DEFAULT 'JSON',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (shop_id, topic, uri)
);
-- Outgoing webhooks; the delivery thread reads status='pending' by next_attempt_at.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    uri TEXT NOT NULL,
    body TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    triggered_at TEXT NOT NULL,
    api_version TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_status_code INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending
    ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    attempted_at REAL NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts(delivery_id);
CREATE TABLE IF NOT EXISTS bulk_operations (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    query TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'CREATED',
    error_code TEXT,
    object_count INTEGER NOT NULL DEFAULT 0,
    root_object_count INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT
);
-- The app's web pixel per shop and its settings (devstore.web_pixels); one per shop and app.
CREATE TABLE IF NOT EXISTS web_pixels (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL UNIQUE,
    settings TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- What the theme editor saved for a shop, over devstore's theme on disk (devstore.themes).
CREATE TABLE IF NOT EXISTS theme_files (
    shop_id INTEGER NOT NULL,
    filename TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, filename)
);
"""

# Columns added after a table first shipped: (table, column, declaration). A database file
# made before them gets them on open; CREATE TABLE IF NOT EXISTS leaves an old table as it is.
ADDED_COLUMNS = (
    ("collections", "sort_order", "TEXT NOT NULL DEFAULT 'MANUAL'"),
    ("collections", "published_at", "TEXT"),
    ("refresh_tokens", "used_at", "REAL"),
    ("refresh_tokens", "replaces", "TEXT"),
    (
        "access_tokens",
        "kind",
        "TEXT NOT NULL DEFAULT 'offline' CHECK (kind IN ('offline', 'online', 'client_credentials'))",
    ),
)

# Tables wiped by a reset, children first.
ALL_TABLES = (
    "web_pixels",
    "theme_files",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
    "bulk_operations",
    "store_credit_transactions",
    "discounts",
    "refund_line_items",
    "refunds",
    "line_items",
    "orders",
    "metafields",
    "customers",
    "collection_products",
    "collections",
    "variants",
    "products",
    "oauth_codes",
    "refresh_tokens",
    "access_tokens",
    "installations",
    "shops",
)


class Database:
    """A SQLite file shared by the server threads; each thread gets its own connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.connection().executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        conn = self.connection()
        for table, column, declaration in ADDED_COLUMNS:
            present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE so concurrent writers queue instead of failing mid-way."""
        conn = self.connection()
        if conn.in_transaction:  # nested: join the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self.connection().execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in self.connection().execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.connection().execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns lastrowid."""
        with self.transaction() as conn:
            cursor = conn.execute(sql, params)
            return int(cursor.lastrowid or 0)

    def insert(self, table: str, values: dict[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))  # noqa: S608 - identifiers are code constants; values are bound parameters

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        if not values:
            return
        assignments = ", ".join(f"{k} = ?" for k in values)
        self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])  # noqa: S608 - identifiers are code constants; values are bound parameters

    def wipe(self) -> None:
        with self.transaction() as conn:
            for table in ALL_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - identifiers are code constants; values are bound parameters

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
