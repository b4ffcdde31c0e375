"""Celery tasks of the overview. Thin: the rollups themselves run as shop jobs (overview.rollups)."""

from celery import shared_task

from overview.rollups import rollups_nightly, rollups_refresh_due


@shared_task(name="overview.tasks.refresh_rollups")
def refresh_rollups() -> int:
    """Beat, every 5 minutes: a rollup job for each shop whose events, orders or ledger moved."""
    return rollups_refresh_due()


@shared_task(name="overview.tasks.nightly_rollups")
def nightly_rollups() -> int:
    """Beat, nightly: the last 35 days recomputed and the day's snapshots, for every shop."""
    return rollups_nightly()
