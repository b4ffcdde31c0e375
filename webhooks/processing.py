"""Processing a stored event: claim it, dispatch by topic, record done or the error; retry what is
transient with backoff; leave the rest failed and replayable. Also the sweeper and replay."""

import enum
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from commerce.records import IngestError
from shop_app.models import Shop
from shop_app.tenancy import get_for_shop
from webhooks.handlers import TOPIC_HANDLERS, EventIgnored
from webhooks.intake import webhook_event_enqueue
from webhooks.models import EventStatus, WebhookEvent
from webhooks.topics import APP_UNINSTALLED, PRIVACY_TOPICS

logger = logging.getLogger(__name__)


class WebhookPayloadError(ValueError):
    """The body is not a JSON object. Retrying will not change it."""


# Failures that no retry can fix: the event fails at once, with the reason recorded, and stays
# replayable. Besides our own two, ValueError, KeyError and TypeError are what malformed data raises
# where a parser did not foresee it (int("two"), a missing key, None where a dict was expected): a
# retry reads the same bytes and fails the same way. What is transient (the database or the
# broker going away, a timeout) raises none of these.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    WebhookPayloadError,
    IngestError,
    ValueError,
    KeyError,
    TypeError,
)

# Topics processed for a shop that is not installed: the privacy topics arrive after an uninstall
# by design, and app/uninstalled is what makes a shop uninstalled.
TOPICS_FOR_UNINSTALLED_SHOPS = PRIVACY_TOPICS | {APP_UNINSTALLED}

# The longest the sweeper waits between two sends of a pending event no worker has taken.
SWEEP_BACKOFF_CAP = timedelta(hours=1)


class Outcome(enum.Enum):
    NOT_CLAIMED = "not_claimed"
    DONE = "done"
    IGNORED = "ignored"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class ProcessResult:
    outcome: Outcome
    retry_in: float = 0.0


def payload_parse(body: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise WebhookPayloadError(f"body is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"body is JSON but not an object: {type(payload).__name__}")
    return payload


def retry_delay(attempts: int) -> float:
    """30 s, 2 min, 8 min, 32 min, then capped: exponential, so a database outage has time to end."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return float(min(base * 4 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS))


def webhook_event_claim(event_pk: int) -> WebhookEvent | None:
    """Take the event for this worker with a conditional UPDATE: of two workers handed the same
    event (a duplicate message, the sweeper), exactly one proceeds."""
    claimed = WebhookEvent.objects.filter(pk=event_pk, status=EventStatus.PENDING).update(
        status=EventStatus.PROCESSING, claimed_at=timezone.now(), attempts=F("attempts") + 1, sweeps=0
    )
    if not claimed:
        return None
    return WebhookEvent.objects.select_related("shop").get(pk=event_pk)


def _error_text(error: Exception) -> str:
    # Type and message only: messages from ingest name fields, not their values.
    return f"{type(error).__name__}: {error}"[:2000]


def _reason_to_skip(event: WebhookEvent) -> str:
    """Why the event is recorded and acknowledged without running its handler, or ""."""
    if event.topic not in TOPIC_HANDLERS:
        return "unknown topic"
    if not event.shop.is_installed and event.topic not in TOPICS_FOR_UNINSTALLED_SHOPS:
        # Stored while the shop was installed, processed after it left (a backlog, a retry): we do
        # no work for a shop that left. Replayable, should the shop come back.
        return "shop not installed when processed"
    return ""


def webhook_event_process(event_pk: int) -> ProcessResult:
    event = webhook_event_claim(event_pk)
    if event is None:
        return ProcessResult(Outcome.NOT_CLAIMED)
    rows = WebhookEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSING)
    skip = _reason_to_skip(event)
    if skip:
        logger.info("webhook event %s (%s): %s, recorded and acknowledged", event.pk, event.topic, skip)
        rows.update(status=EventStatus.IGNORED, note=skip, processed_at=timezone.now())
        return ProcessResult(Outcome.IGNORED)
    handler = TOPIC_HANDLERS[event.topic]
    try:
        payload = payload_parse(event.body)
        with transaction.atomic():
            handler(event.shop, payload, event)
            # In the handler's transaction: the event is done exactly when its effects are stored.
            rows.update(status=EventStatus.DONE, processed_at=timezone.now(), last_error="")
    except EventIgnored as ignored:
        # The handler's transaction rolled back: it found nothing to do, for the recorded reason.
        logger.info("webhook event %s (%s) ignored: %s", event.pk, event.topic, ignored)
        rows.update(status=EventStatus.IGNORED, note=str(ignored)[:255], processed_at=timezone.now())
        return ProcessResult(Outcome.IGNORED)
    except PERMANENT_ERRORS as error:
        logger.warning("webhook event %s (%s) failed: %s", event.pk, event.topic, error)
        rows.update(status=EventStatus.FAILED, last_error=_error_text(error), processed_at=timezone.now())
        return ProcessResult(Outcome.FAILED)
    except Exception as error:
        return _transient_failure_record(event, rows, error)
    return ProcessResult(Outcome.DONE)


def _transient_failure_record(
    event: WebhookEvent, rows: QuerySet[WebhookEvent], error: Exception
) -> ProcessResult:
    """Schedule the next attempt with backoff, or, out of attempts, leave the event failed."""
    if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.exception(
            "webhook event %s (%s) failed after %s attempts", event.pk, event.topic, event.attempts
        )
        rows.update(status=EventStatus.FAILED, last_error=_error_text(error), processed_at=timezone.now())
        return ProcessResult(Outcome.FAILED)
    delay = retry_delay(event.attempts)
    logger.warning(
        "webhook event %s (%s) attempt %s failed, retry in %ss", event.pk, event.topic, event.attempts, delay
    )
    rows.update(
        status=EventStatus.PENDING,
        last_error=_error_text(error),
        available_at=timezone.now() + timedelta(seconds=delay),
    )
    return ProcessResult(Outcome.RETRY, retry_in=delay)


def sweep_backoff(sweeps: int, grace: timedelta) -> timedelta:
    """How long the sweeper waits after its `sweeps`-th send of an event before sending it again:
    the grace period, then twice as long each time, capped so that an event no worker ever takes
    is still sent at least once an hour."""
    return min(grace * 2 ** min(max(sweeps - 1, 0), 16), max(SWEEP_BACKOFF_CAP, grace))


def webhook_events_sweep(now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: send again what the broker never delivered (it was down, or lost the
    message) and free events whose worker died mid-way. Returns how many were enqueued. Sending an
    event twice is harmless: only one worker can claim it. An event sent again and still not taken
    (a backlog: its message is most likely waiting in the queue) waits twice as long before the
    next send, so the queue does not grow by one message per waiting event every minute."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    # A claim older than the hard time limit belongs to a worker that is gone.
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) - grace
    for event in WebhookEvent.objects.filter(status=EventStatus.PROCESSING, claimed_at__lt=stale)[:limit]:
        rows = WebhookEvent.objects.filter(
            pk=event.pk, status=EventStatus.PROCESSING, claimed_at=event.claimed_at
        )
        if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            rows.update(
                status=EventStatus.FAILED, last_error="worker lost while processing", processed_at=now
            )
        else:
            rows.update(
                status=EventStatus.PENDING,
                last_error="worker lost while processing",
                available_at=now - grace,
            )
    due = list(
        WebhookEvent.objects.filter(status=EventStatus.PENDING, available_at__lte=now - grace)
        .order_by("available_at")
        .values_list("pk", "sweeps")[:limit]
    )
    sent = 0
    for event_pk, sweeps in due:
        # Push the due time forward so the next sweep waits for this send to be worked: the row is
        # picked up again `grace` after available_at, so this one is next sent `wait` from now.
        # Conditional on `sweeps`: of two overlapping sweeps, one sends.
        wait = sweep_backoff(sweeps + 1, grace)
        moved = WebhookEvent.objects.filter(pk=event_pk, status=EventStatus.PENDING, sweeps=sweeps).update(
            available_at=now + wait - grace, sweeps=F("sweeps") + 1
        )
        if moved:
            sent += webhook_event_enqueue(event_pk)
    if due:
        logger.info("webhook sweep: %s due, %s enqueued", len(due), sent)
    return sent


class ReplayRefused(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"an event that is {status} cannot be replayed")
        self.status = status


REPLAYABLE_STATUSES = (EventStatus.FAILED, EventStatus.IGNORED)


def webhook_event_replay(shop: Shop, event_pk: int) -> WebhookEvent:
    """Run a failed (or ignored) event again, with a fresh set of attempts. Raises
    WebhookEvent.DoesNotExist for another shop's event, ReplayRefused for one not finished."""
    event = get_for_shop(WebhookEvent, shop, pk=event_pk)
    reset = WebhookEvent.objects.for_shop(shop).filter(pk=event.pk, status__in=REPLAYABLE_STATUSES)
    if not reset.update(
        status=EventStatus.PENDING, attempts=0, sweeps=0, available_at=timezone.now(), note="replayed"
    ):
        raise ReplayRefused(event.status)
    transaction.on_commit(lambda: webhook_event_enqueue(event.pk))
    event.refresh_from_db()
    return event


def webhook_events_for_shop(shop: Shop, status: str | None = None) -> "list[WebhookEvent]":
    events = WebhookEvent.objects.for_shop(shop).order_by("-received_at", "-pk")
    if status:
        events = events.filter(status=status)
    return list(events[:200])
