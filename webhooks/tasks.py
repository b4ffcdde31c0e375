"""Celery tasks of webhooks. Thin: take ids, call a service."""

import logging

from celery import shared_task

from webhooks.processing import Outcome, webhook_event_enqueue, webhook_events_process, webhook_events_sweep

logger = logging.getLogger(__name__)


# acks_late: a worker that dies mid-task leaves the message to be delivered again. Safe only
# because processing is idempotent: the claim lets one worker in, and handlers apply state only
# if newer.
@shared_task(name="webhooks.tasks.process_webhook_event", acks_late=True)
def process_webhook_event(event_pk: int) -> None:
    # The event, and the events processed with it (webhooks.processing.webhook_events_process).
    for pk, result in webhook_events_process(event_pk).items():
        if result.outcome is Outcome.RETRY:
            # If the broker is down now, the row is still pending with its due time; the sweeper
            # sends it.
            webhook_event_enqueue(pk, countdown=result.retry_in)


@shared_task(name="webhooks.tasks.sweep_webhook_events")
def sweep_webhook_events() -> None:
    """Beat, every minute."""
    webhook_events_sweep()
