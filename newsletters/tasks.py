"""Celery tasks of newsletters. Thin: take ids, call a service."""

from celery import shared_task

from newsletters.deliveries import deliveries_sweep, delivery_enqueue
from newsletters.sending import deliveries_send, issues_create_due
from shop_app.work import Outcome


# acks_late: a worker that dies mid-task leaves the message to be delivered again. Safe because
# the claim lets one worker in, and a row handed to SMTP is never sent again (newsletters.sending).
@shared_task(name="newsletters.tasks.send_deliveries", acks_late=True)
def send_deliveries(delivery_pk: int) -> None:
    for pk, result in deliveries_send(delivery_pk).items():
        if result.outcome is Outcome.RETRY:
            delivery_enqueue(pk, countdown=result.retry_in)


@shared_task(name="newsletters.tasks.create_due_issues")
def create_due_issues() -> None:
    """Beat, every quarter hour."""
    issues_create_due()


@shared_task(name="newsletters.tasks.sweep_deliveries")
def sweep_deliveries() -> None:
    """Beat, every minute."""
    deliveries_sweep()
