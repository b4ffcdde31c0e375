"""Intake: store a verified delivery and hand it to a worker after commit. Nothing slow here:
Shopify gives us five seconds, and the work happens in webhooks.processing."""

import enum
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import Task
from django.db import connection, transaction
from django.utils import timezone

from shop_app.models import Shop
from shop_app.statements import statement_fetchone
from shop_app.times import iso_time_parse
from shop_app.work import work_enqueue_soon
from webhooks.models import EventStatus, WebhookEvent
from webhooks.topics import PRIVACY_TOPICS, TOPICS_FOR_UNINSTALLED_SHOPS

logger = logging.getLogger(__name__)

# Topics whose events a worker processes together, many of one shop and topic at once
# (webhooks.processing.TOPIC_BATCH_HANDLERS): intake sends one wake-up for those it stored close
# together (shop_app.work.work_enqueue_soon).
TOPICS_PROCESSED_TOGETHER = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"}
)


@dataclass(frozen=True)
class WebhookDelivery:
    """One verified request, as Shopify's headers describe it."""

    shop_domain: str
    topic: str
    event_id: str
    webhook_id: str
    api_version: str
    triggered_at: datetime | None
    body: bytes


class IntakeOutcome(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    # A privacy topic for a shop we do not know (never installed, or erased by shop/redact): we
    # hold nothing on it, so there is nothing to do, and Shopify needs its 200.
    UNKNOWN_SHOP_ACKNOWLEDGED = "unknown_shop_acknowledged"
    # Any other topic for a shop we do not know: refused, so that Shopify retries. A valid HMAC
    # means Shopify did send it for our app; the likeliest cause is an install still completing,
    # and the retry (within 4 hours) lands once the shop row exists. Acknowledging would lose it.
    UNKNOWN_SHOP_REFUSED = "unknown_shop_refused"


def triggered_at_parse(value: str) -> datetime | None:
    """X-Shopify-Triggered-At, e.g. 2023-03-15T15:26:55.186283283Z (nanoseconds: keep micro)."""
    if not value:
        return None
    try:
        return iso_time_parse(value)
    except ValueError:
        return None


def delivery_event_id(event_id: str, webhook_id: str, topic: str, body: bytes) -> str:
    """The deduplication key: Shopify's event id; failing that its webhook id (the same on every
    retry); failing both, a digest of topic and body (an identical delivery is the same event)."""
    if event_id:
        return event_id
    if webhook_id:
        return f"webhook:{webhook_id}"
    return "sha256:" + hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()


def body_as_text(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a body that is not UTF-8 is kept recognisably, and fails
    # parsing later with a recorded error.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


_EVENT_TABLE = WebhookEvent._meta.db_table
_SHOP_TABLE = Shop._meta.db_table
# The delivery stored in one statement, the shop found by its domain inside it: one round trip, no
# model instance, no ORM compilation per request. ON CONFLICT DO NOTHING is the deduplication per
# (shop, event id) (webhook_event_unique_per_shop): a duplicate inserts nothing and raises nothing,
# so no savepoint is needed inside a caller's transaction either. Identifiers from the models; the
# values are parameters.
_STORE = (
    f"INSERT INTO {_EVENT_TABLE} (shop_id, topic, event_id, webhook_id, api_version, triggered_at, body,"  # noqa: S608
    " received_at, available_at, status, note, attempts, sweeps, last_error)"
    " SELECT shop.id, %s, %s, %s, %s, %s, %s, %s, %s,"
    "  CASE WHEN (shop.installed_at IS NOT NULL AND shop.uninstalled_at IS NULL) OR %s THEN %s ELSE %s END,"
    "  CASE WHEN (shop.installed_at IS NOT NULL AND shop.uninstalled_at IS NULL) OR %s THEN '' ELSE %s END,"
    "  0, 0, ''"
    f" FROM {_SHOP_TABLE} shop WHERE shop.domain = %s"
    " ON CONFLICT (shop_id, event_id) DO NOTHING"
    " RETURNING id, shop_id, status"
)
NOT_INSTALLED_NOTE = "shop not installed when received"


def webhook_event_store(delivery: WebhookDelivery) -> tuple[IntakeOutcome, int | None]:
    """Store the delivery once per (shop, event id) and, when new and due, enqueue it after commit.
    Returns the outcome and the stored event's pk.

    Uninstalled shops: privacy topics and app/uninstalled are stored and processed; any other
    topic is stored as ignored (with a note), so it is on record and can be replayed if the shop
    comes back, but we do no work for a shop that left.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    event_id = delivery_event_id(delivery.event_id, delivery.webhook_id, delivery.topic, delivery.body)
    worked_when_uninstalled = delivery.topic in TOPICS_FOR_UNINSTALLED_SHOPS
    stored = _store_execute(
        [
            delivery.topic,
            event_id,
            delivery.webhook_id,
            delivery.api_version,
            connection.ops.adapt_datetimefield_value(delivery.triggered_at),
            body_as_text(delivery.body),
            now,
            now,
            worked_when_uninstalled,
            EventStatus.PENDING.value,
            EventStatus.IGNORED.value,
            worked_when_uninstalled,
            NOT_INSTALLED_NOTE,
            delivery.shop_domain,
        ]
    )
    if stored is None:
        return _not_stored(delivery), None
    event_pk, shop_pk, status = stored
    if status == EventStatus.PENDING:
        # Stored, so never lost whatever happens next; the wake-up is published by another thread
        # (the sweeper sends it should the process die first): the answer waits on no broker.
        together = (shop_pk, delivery.topic) if delivery.topic in TOPICS_PROCESSED_TOGETHER else None
        transaction.on_commit(lambda: work_enqueue_soon(process_webhook_event_task(), event_pk, together))
    return IntakeOutcome.STORED, event_pk


def _store_execute(parameters: list[Any]) -> tuple[int, int, str] | None:
    """Run _STORE: on PostgreSQL the body travels as a bound parameter and the statement is
    prepared once per connection (shop_app.statements)."""
    return statement_fetchone(_STORE, parameters)


def _not_stored(delivery: WebhookDelivery) -> IntakeOutcome:
    """Why nothing was inserted: the shop is unknown, or the event is a duplicate (the rare paths,
    read only then)."""
    if Shop.objects.filter(domain=delivery.shop_domain).exists():
        logger.info(
            "webhook %s %s for %s: duplicate delivery",
            delivery.topic,
            delivery.event_id,
            delivery.shop_domain,
        )
        return IntakeOutcome.DUPLICATE
    if delivery.topic in PRIVACY_TOPICS:
        logger.info(
            "webhook %s for unknown shop %s: nothing held, acknowledged", delivery.topic, delivery.shop_domain
        )
        return IntakeOutcome.UNKNOWN_SHOP_ACKNOWLEDGED
    logger.warning(
        "webhook %s for unknown shop %s: refused, Shopify retries", delivery.topic, delivery.shop_domain
    )
    return IntakeOutcome.UNKNOWN_SHOP_REFUSED


def process_webhook_event_task() -> Task:
    # webhooks.tasks imports processing, which imports this module: the cycle is Celery's.
    from webhooks.tasks import process_webhook_event  # noqa: PLC0415

    return process_webhook_event
