"""Celery tasks of commerce. Thin: call a service. (The import, collection reads and
reconciliation passes run as shop jobs, shop_app.jobs; their handlers are registered in apps.py.)"""

from celery import shared_task

from commerce.reconcile import reconcile_all_shops_enqueue


@shared_task(name="commerce.tasks.reconcile_all_shops")
def reconcile_all_shops() -> None:
    """Beat, every 30 minutes: one reconciliation job per installed shop."""
    reconcile_all_shops_enqueue()
