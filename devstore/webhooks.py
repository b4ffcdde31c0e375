"""Outgoing webhooks: who gets which topic, the delivery queue and its worker thread."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from devstore.config import COMPLIANCE_TOPICS, DevstoreConfig
from devstore.db import Database, Row
from devstore.formats import gid, now_iso
from devstore.runtime import WEBHOOK_BACKOFF, RuntimeSettings
from devstore.signing import webhook_hmac

log = logging.getLogger("devstore.webhooks")

# Held deliveries (out-of-order mode) are released after this long even if fewer arrived.
HOLD_RELEASE_SECONDS = 3.0


def topic_to_enum(topic: str) -> str:
    """orders/create -> ORDERS_CREATE (GraphQL WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


def topic_from_enum(value: str) -> str:
    """ORDERS_CREATE -> orders/create; the first underscore-separated run is the resource."""
    known = {topic_to_enum(t): t for t in ALL_TOPICS}
    if value in known:
        return known[value]
    resource, _, action = value.lower().rpartition("_")
    return f"{resource}/{action}"


ALL_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/delete",
    "refunds/create",
    "customers/create",
    "customers/update",
    "customers/delete",
    "customers_email_marketing_consent/update",
    "inventory_levels/update",
    "products/create",
    "products/update",
    "products/delete",
    "collections/create",
    "collections/update",
    "collections/delete",
    "app/uninstalled",
    "bulk_operations/finish",
    *COMPLIANCE_TOPICS,
)


def triggered_at_now() -> str:
    """X-Shopify-Triggered-At: UTC with nine fractional digits, as `2023-03-15T15:26:55.186283283Z`.

    Python's clock gives microseconds; they are padded to Shopify's nanosecond width.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def subscription_create(db: Database, shop_id: int, topic: str, uri: str, format_: str = "JSON") -> Row:
    stamp = now_iso()
    db.execute(
        "INSERT INTO webhook_subscriptions (shop_id, topic, uri, format, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, topic, uri)"
        " DO UPDATE SET updated_at = excluded.updated_at",
        (shop_id, topic, uri, format_, stamp, stamp),
    )
    row = db.one(
        "SELECT * FROM webhook_subscriptions WHERE shop_id = ? AND topic = ? AND uri = ?",
        (shop_id, topic, uri),
    )
    assert row is not None
    return row


def subscription_list(db: Database, shop_id: int) -> list[Row]:
    return db.all("SELECT * FROM webhook_subscriptions WHERE shop_id = ? ORDER BY id", (shop_id,))


def subscription_delete(db: Database, shop_id: int, subscription_id: int) -> bool:
    before = db.scalar(
        "SELECT COUNT(*) FROM webhook_subscriptions WHERE shop_id = ? AND id = ?", (shop_id, subscription_id)
    )
    db.execute("DELETE FROM webhook_subscriptions WHERE shop_id = ? AND id = ?", (shop_id, subscription_id))
    return bool(before)


def destinations(db: Database, config: DevstoreConfig, shop_id: int, topic: str) -> list[str]:
    """The callback uri of every subscription to a topic for this shop, one entry per subscription.

    Shopify delivers an event once per subscription: an app-scoped subscription (the toml's
    [webhooks] subscriptions and compliance_topics) and a shop-scoped one (webhookSubscriptionCreate)
    to the same uri are two deliveries, not one. Without a toml, the app-scoped subscription is
    everything to APP_URL/webhooks/.
    """
    toml = config.app_toml
    uris: list[str] = []
    if topic in COMPLIANCE_TOPICS:
        uris.append(
            config.app_uri(toml.compliance_uri) if toml.compliance_uri else config.app_url + "/webhooks/"
        )
    elif not toml.present:
        uris.append(config.app_url + "/webhooks/")
    else:
        for sub in toml.subscriptions:
            if topic in sub.topics:
                uris.append(config.app_uri(sub.uri))
    for row in db.all(
        "SELECT uri FROM webhook_subscriptions WHERE shop_id = ? AND topic = ? ORDER BY id", (shop_id, topic)
    ):
        uris.append(row["uri"])
    return uris


class WebhookQueue:
    """Enqueues deliveries (rows) and works them from one background thread."""

    def __init__(self, db: Database, config: DevstoreConfig, settings: RuntimeSettings) -> None:
        self.db = db
        self.config = config
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def api_version(self) -> str:
        return self.config.app_toml.webhooks_api_version or self.config.api_version

    def enqueue(self, shop: Row, topic: str, payload: dict[str, Any]) -> list[int]:
        """Queue one event for every subscriber; returns the delivery ids."""
        uris = destinations(self.db, self.config, shop["id"], topic)
        if not uris:
            return []
        body = json.dumps(payload, separators=(",", ":"))
        event_id = str(uuid.uuid4())
        triggered_at = triggered_at_now()
        behaviour = self.settings.webhooks
        now = time.time()
        ids: list[int] = []
        with self.db.transaction():
            for uri in uris:
                webhook_id = str(uuid.uuid4())
                copies = 2 if behaviour.duplicate else 1
                for _ in range(copies):
                    ids.append(
                        self.db.insert(
                            "webhook_deliveries",
                            {
                                "shop_id": shop["id"],
                                "topic": topic,
                                "uri": uri,
                                "body": body,
                                "webhook_id": webhook_id,
                                "event_id": event_id,
                                "triggered_at": triggered_at,
                                "api_version": self.api_version,
                                "status": "held" if behaviour.out_of_order > 0 else "pending",
                                "next_attempt_at": now + behaviour.delay_seconds,
                                "created_at": now,
                            },
                        )
                    )
        if behaviour.out_of_order > 0:
            self._release_held(force=False)
        self._wake.set()
        return ids

    def _release_held(self, *, force: bool) -> None:
        """Out-of-order mode: once N deliveries are held, send them newest first."""
        behaviour = self.settings.webhooks
        held = self.db.all(
            "SELECT id, created_at FROM webhook_deliveries WHERE status = 'held' ORDER BY id DESC"
        )
        if not held:
            return
        oldest = min(r["created_at"] for r in held)
        if not force and len(held) < behaviour.out_of_order and time.time() - oldest < HOLD_RELEASE_SECONDS:
            return
        now = time.time()
        with self.db.transaction() as conn:
            for position, row in enumerate(held):
                conn.execute(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?",
                    (now + position * 0.001, row["id"]),
                )
        behaviour.out_of_order = 0
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="devstore-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stop.is_set():
                try:
                    self._release_held(force=False)
                    worked = self.work_one(client)
                except Exception:  # the worker must outlive any one bad row
                    log.exception("webhook worker error")
                    worked = False
                if not worked:
                    self._wake.wait(0.05)
                    self._wake.clear()

    def work_one(self, client: httpx.Client) -> bool:
        """Attempt the most overdue delivery; False when nothing is due."""
        row = self.db.one(
            "SELECT * FROM webhook_deliveries WHERE status = 'pending'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1",
            (time.time(),),
        )
        if row is None:
            return False
        shop = self.db.one("SELECT domain FROM shops WHERE id = ?", (row["shop_id"],))
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": row["topic"],
            "X-Shopify-Hmac-Sha256": webhook_hmac(self.config.api_secret, body),
            "X-Shopify-Shop-Domain": shop["domain"] if shop else "",
            "X-Shopify-API-Version": row["api_version"],
            "X-Shopify-Webhook-Id": row["webhook_id"],
            "X-Shopify-Event-Id": row["event_id"],
            "X-Shopify-Triggered-At": row["triggered_at"],
        }
        started = time.time()
        status_code: int | None = None
        error: str | None = None
        try:
            response = client.post(
                row["uri"], content=body, headers=headers, timeout=self.settings.webhooks.timeout
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.time() - started) * 1000)
        self._record(row, status_code, error, duration_ms)
        return True

    def _record(self, row: Row, status_code: int | None, error: str | None, duration_ms: int) -> None:
        attempts = row["attempts"] + 1
        now = time.time()
        behaviour = self.settings.webhooks
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code,"
                " error, duration_ms) VALUES (?, ?, ?, ?, ?)",
                (row["id"], now, status_code, error, duration_ms),
            )
            if error is None:
                conn.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?,"
                    " last_status_code = ?, last_error = NULL, delivered_at = ?"
                    " WHERE id = ?",
                    (attempts, status_code, now, row["id"]),
                )
                return
            retries_done = attempts - 1
            if retries_done >= behaviour.max_retries:
                conn.execute(
                    "UPDATE webhook_deliveries SET status = 'failed', attempts = ?,"
                    " last_status_code = ?, last_error = ? WHERE id = ?",
                    (attempts, status_code, error, row["id"]),
                )
                return
            step = WEBHOOK_BACKOFF[min(retries_done, len(WEBHOOK_BACKOFF) - 1)]
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = ?, last_status_code = ?,"
                " last_error = ?, next_attempt_at = ? WHERE id = ?",
                (attempts, status_code, error, now + step * behaviour.backoff_scale, row["id"]),
            )

    def wait_idle(self, timeout: float) -> int:
        """Block until nothing is pending or held (or timeout); returns what is left."""
        deadline = time.time() + timeout
        while True:
            left = int(
                self.db.scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status IN ('pending', 'held')")
                or 0
            )
            if left == 0 or time.time() >= deadline:
                return left
            self._wake.set()
            time.sleep(0.02)


def delivery_list(
    db: Database,
    *,
    shop_id: int | None = None,
    topic: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Deliveries newest first, each with its attempts: what the control API shows."""
    clauses, params = [], []
    for column, value in (("shop_id", shop_id), ("topic", topic), ("status", status)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.all(
        f"SELECT * FROM webhook_deliveries {where} ORDER BY id DESC LIMIT ?",  # noqa: S608 - identifiers are code constants; values are bound parameters
        [*params, limit],
    )
    result = []
    for row in rows:
        attempts = db.all(
            "SELECT attempted_at, status_code, error, duration_ms FROM"
            " webhook_attempts WHERE delivery_id = ? ORDER BY id",
            (row["id"],),
        )
        result.append(
            {
                "id": row["id"],
                "topic": row["topic"],
                "uri": row["uri"],
                "shop_id": row["shop_id"],
                "status": row["status"],
                "attempts": row["attempts"],
                "webhook_id": row["webhook_id"],
                "event_id": row["event_id"],
                "triggered_at": row["triggered_at"],
                "last_status_code": row["last_status_code"],
                "last_error": row["last_error"],
                "next_attempt_at": row["next_attempt_at"],
                "body": json.loads(row["body"]),
                "attempt_log": attempts,
            }
        )
    return result


def subscription_gid(row: Row) -> str:
    return gid("WebhookSubscription", row["id"])
