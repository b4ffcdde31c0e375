"""Celery tasks of shop_app. Thin: take ids, call a service."""

from celery import shared_task

from shop_app.heartbeats import heartbeat_record


@shared_task(name="shop_app.tasks.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat every minute; a worker running it proves the pipeline end to end."""
    heartbeat_record("worker")
