"""Processing a stored event: claim it, dispatch by topic, record done or the error; retry what is
transient with backoff; leave the rest failed and replayable. The machinery is the project's one
background-work piece (shop_app.work); this module says what webhook work is.

Order events come by the thousand (a sale, a backlog after an outage), and one at a time each costs
a dozen queries. So a worker sent one takes, with it, the other ready events of its shop and topic
(up to BATCH_SIZE) and applies them set-based in one transaction (TOPIC_BATCH_HANDLERS); should
that fail, each runs on its own, so that a bad event fails alone (shop_app.work.work_run_together).
"""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from commerce import ingest
from shop_app.models import Shop
from shop_app.tenancy import get_for_shop
from shop_app.work import (
    Outcome,
    PermanentError,
    ReplayRefused,
    RunResult,
    WorkKind,
    sweep_backoff,
    work_claim,
    work_claim_alike,
    work_enqueue,
    work_replay,
    work_run,
    work_run_together,
    work_skip,
    work_sweep,
)
from shop_app.work import retry_delay as work_retry_delay
from webhooks.handlers import TOPIC_HANDLERS
from webhooks.intake import TOPICS_PROCESSED_TOGETHER, process_webhook_event_task
from webhooks.models import EventStatus, WebhookEvent
from webhooks.privacy import REDACTED_BODY
from webhooks.reactions import ShopperChange, shopper_change_announce
from webhooks.topics import TOPICS_FOR_UNINSTALLED_SHOPS

__all__ = [
    "Outcome",
    "ReplayRefused",
    "RunResult",
    "WebhookPayloadError",
    "retry_delay",
    "sweep_backoff",
    "webhook_event_claim",
    "webhook_event_enqueue",
    "webhook_event_process",
    "webhook_event_replay",
    "webhook_events_for_shop",
    "webhook_events_process",
    "webhook_events_sweep",
]


class WebhookPayloadError(PermanentError, ValueError):
    """The body is not a JSON object. Retrying will not change it."""


WEBHOOK_WORK: WorkKind[WebhookEvent] = WorkKind(
    model=WebhookEvent,
    task=process_webhook_event_task,
    max_attempts=lambda: settings.WEBHOOK_MAX_ATTEMPTS,
    retry_base_seconds=lambda: settings.WEBHOOK_RETRY_BASE_SECONDS,
    retry_max_seconds=lambda: settings.WEBHOOK_RETRY_MAX_SECONDS,
    name="webhook event",
)


def payload_parse(body: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise WebhookPayloadError(f"body is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"body is JSON but not an object: {type(payload).__name__}")
    return payload


def retry_delay(attempts: int) -> float:
    """30 s, 2 min, 8 min, 32 min, then capped."""
    return work_retry_delay(WEBHOOK_WORK, attempts)


def webhook_event_enqueue(event_pk: int, countdown: float = 0) -> bool:
    """Send the event to a worker; never raises, never waits long (the sweeper covers a failure)."""
    return work_enqueue(process_webhook_event_task(), event_pk, countdown)


def webhook_event_claim(event_pk: int) -> WebhookEvent | None:
    return work_claim(WEBHOOK_WORK, event_pk)


def _reason_to_skip(event: WebhookEvent) -> str:
    """Why the event is recorded and acknowledged without running its handler, or ""."""
    if event.topic not in TOPIC_HANDLERS:
        return "unknown topic"
    if not event.shop.is_installed and event.topic not in TOPICS_FOR_UNINSTALLED_SHOPS:
        # Stored while the shop was installed, processed after it left (a backlog, a retry): we do
        # no work for a shop that left. Replayable, should the shop come back.
        return "shop not installed when processed"
    return ""


def _handle(event: WebhookEvent) -> None:
    TOPIC_HANDLERS[event.topic](event.shop, payload_parse(event.body), event)


def orders_changed_together(shop: Shop, events: list[WebhookEvent]) -> None:
    """webhooks.handlers.order_changed for many events of one shop and topic, set-based: the orders
    upserted in turn (commerce.ingest.orders_upsert), the payloads of erased shoppers erased, and
    one ShopperChange naming every order and shopper."""
    topic = events[0].topic
    states = [
        (ingest.order_record_from_webhook(payload_parse(event.body)), event.triggered_at) for event in events
    ]
    orders = ingest.orders_upsert(shop, states, source=f"webhook:{topic}")
    # As webhooks.privacy.event_erase_if_shopper_erased does for one event.
    erased = ingest.shoppers_suppressed(shop, ((record.customer_id, record.email) for record, _ in states))
    erased_events = [
        event.pk
        for event, (record, _) in zip(events, states, strict=True)
        if (record.customer_id, record.email) in erased
    ]
    if erased_events:
        WebhookEvent.objects.for_shop(shop).filter(pk__in=erased_events).update(
            body=REDACTED_BODY, redacted_at=timezone.now()
        )
    shopper_change_announce(
        ShopperChange(
            shop_id=shop.pk,
            order_ids=tuple(dict.fromkeys(order.pk for order in orders)),
            customer_ids=tuple(dict.fromkeys(order.customer_id for order in orders if order.customer_id)),
            cause=topic,
        )
    )


BatchHandler = Callable[[Shop, list[WebhookEvent]], None]

# The handler of each topic whose events are processed together (webhooks.intake names them),
# taking many events at once. Each does what the topic's handler in TOPIC_HANDLERS does for one.
TOPIC_BATCH_HANDLERS: dict[str, BatchHandler] = dict.fromkeys(
    TOPICS_PROCESSED_TOGETHER, orders_changed_together
)

# Events processed together at most: a transaction of a few hundred milliseconds at worst.
BATCH_SIZE = 100
# Batches one task runs at most, while full ones keep coming; then it sends a wake-up for the rest
# and ends, so that a task stays well within its time limit and a worker can stop.
BATCHES_PER_TASK = 20


def webhook_events_process(event_pk: int) -> dict[int, RunResult]:
    """Process the event, and with it, when its topic has a batch handler, the other ready events
    of its shop and topic: BATCH_SIZE at a time, until a batch is not full. Its wake-up stands for
    every event intake stored before it (webhooks.intake): they are all taken here, or by the
    worker that took this one. Returns each processed event's outcome by pk."""
    event = webhook_event_claim(event_pk)
    if event is None:
        return {event_pk: RunResult(Outcome.NOT_CLAIMED)}
    skip = _reason_to_skip(event)
    if skip:
        return {event_pk: work_skip(WEBHOOK_WORK, event, skip)}
    together = TOPIC_BATCH_HANDLERS.get(event.topic)
    if together is None:
        return {event_pk: work_run(WEBHOOK_WORK, event, _handle)}
    alike = WebhookEvent.objects.filter(shop_id=event.shop_id, topic=event.topic)
    outcomes: dict[int, RunResult] = {}
    batch = [event, *work_claim_alike(WEBHOOK_WORK, alike, BATCH_SIZE - 1)]
    batches = 1
    while True:
        outcomes.update(_batch_run(event.shop, batch, together))
        if len(batch) < BATCH_SIZE:
            return outcomes
        if batches == BATCHES_PER_TASK:
            break
        batch = work_claim_alike(WEBHOOK_WORK, alike, BATCH_SIZE)
        batches += 1
        if not batch:
            return outcomes
    # Full batches kept coming: a wake-up for the rest (the newest ready event stands for them),
    # and this task ends.
    ready = alike.filter(status=EventStatus.PENDING, available_at__lte=timezone.now())
    newest = ready.order_by("-pk").values_list("pk", flat=True).first()
    if newest is not None:
        webhook_event_enqueue(newest)
    return outcomes


def _batch_run(shop: Shop, batch: list[WebhookEvent], together: BatchHandler) -> dict[int, RunResult]:
    """Run claimed events of one shop and topic: together, or on its own when it is one."""
    for event in batch:
        event.shop = shop  # one shop: read once
    if len(batch) == 1:
        return {batch[0].pk: work_run(WEBHOOK_WORK, batch[0], _handle)}
    batch.sort(key=lambda event: event.pk)  # in the order they arrived
    return work_run_together(WEBHOOK_WORK, batch, lambda events: together(shop, events), _handle)


def webhook_event_process(event_pk: int) -> RunResult:
    """Process the event (and others like it: webhook_events_process); the event's outcome."""
    return webhook_events_process(event_pk)[event_pk]


def webhook_events_sweep(now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute (see shop_app.work.work_sweep)."""
    return work_sweep(WEBHOOK_WORK, now, limit)


def webhook_event_replay(shop: Shop, event_pk: int) -> WebhookEvent:
    """Run a failed (or ignored) event again, with a fresh set of attempts. Raises
    WebhookEvent.DoesNotExist for another shop's event, ReplayRefused for one not finished."""
    event = get_for_shop(WebhookEvent, shop, pk=event_pk)
    return work_replay(WEBHOOK_WORK, WebhookEvent.objects.for_shop(shop), event)


def webhook_events_for_shop(shop: Shop, status: str | None = None) -> "list[WebhookEvent]":
    events = WebhookEvent.objects.for_shop(shop).order_by("-received_at", "-pk")
    if status:
        events = events.filter(status=status)
    return list(events[:200])
