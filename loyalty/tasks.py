"""Celery tasks of loyalty. Thin: each queues the shops' jobs (handlers in loyalty.maintenance)."""

from celery import shared_task

from loyalty.maintenance import hourly_all_shops, nightly_all_shops


@shared_task(name="loyalty.tasks.hourly")
def hourly() -> None:
    """Beat, hourly: expiry, reminders, birthdays, redemptions left behind, the mirror."""
    hourly_all_shops()


@shared_task(name="loyalty.tasks.nightly")
def nightly() -> None:
    """Beat, nightly: tiers, and the check that every cached balance equals the ledger."""
    nightly_all_shops()
