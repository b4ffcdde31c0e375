"""Deliveries are rows of the one background-work piece (shop_app.work): this says what their work
is (a WorkKind) and how a row is sent to a worker. Sending itself is newsletters.sending."""

from celery import Task
from django.conf import settings
from django.db import transaction

from newsletters.models import Delivery
from shop_app.work import WorkKind, work_enqueue, work_sweep


def delivery_task() -> Task:
    # newsletters.tasks imports newsletters.sending, which imports this module: Celery's cycle.
    from newsletters.tasks import send_deliveries  # noqa: PLC0415

    return send_deliveries


DELIVERY_WORK: WorkKind[Delivery] = WorkKind(
    model=Delivery,
    task=delivery_task,
    max_attempts=lambda: settings.NEWSLETTER_SEND_MAX_ATTEMPTS,
    retry_base_seconds=lambda: settings.NEWSLETTER_SEND_RETRY_BASE_SECONDS,
    retry_max_seconds=lambda: settings.NEWSLETTER_SEND_RETRY_MAX_SECONDS,
    name="newsletter delivery",
    # Each row commits "handed off" before its message goes to SMTP, then "done" after: not one
    # transaction, so that a worker dying in between leaves a row that is never sent twice.
    atomic=False,
)


def delivery_enqueue(delivery_pk: int, countdown: float = 0) -> bool:
    return work_enqueue(delivery_task(), delivery_pk, countdown)


def delivery_enqueue_on_commit(delivery_pk: int) -> None:
    transaction.on_commit(lambda: delivery_enqueue(delivery_pk))


def deliveries_sweep() -> int:
    """Beat, every minute (see shop_app.work.work_sweep)."""
    return work_sweep(DELIVERY_WORK)
