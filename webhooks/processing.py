"""Processing a stored event: claim it, dispatch by topic, record done or the error; retry what is
transient with backoff; leave the rest failed and replayable. The machinery is the project's one
background-work piece (shop_app.work); this module says what webhook work is."""

import json
from datetime import datetime
from typing import Any

from django.conf import settings

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
    work_enqueue,
    work_replay,
    work_run,
    work_skip,
    work_sweep,
)
from shop_app.work import retry_delay as work_retry_delay
from webhooks.handlers import TOPIC_HANDLERS
from webhooks.intake import process_webhook_event_task
from webhooks.models import WebhookEvent
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


def webhook_event_process(event_pk: int) -> RunResult:
    event = webhook_event_claim(event_pk)
    if event is None:
        return RunResult(Outcome.NOT_CLAIMED)
    skip = _reason_to_skip(event)
    if skip:
        return work_skip(WEBHOOK_WORK, event, skip)
    return work_run(WEBHOOK_WORK, event, _handle)


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
