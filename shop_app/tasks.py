"""Celery tasks of shop_app. Thin: take ids, call a service."""

import logging

from celery import shared_task

from shop_app.heartbeats import heartbeat_record
from shop_app.jobs import job_process, jobs_sweep
from shop_app.work import Outcome, work_enqueue

logger = logging.getLogger(__name__)


@shared_task(name="shop_app.tasks.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat every minute; a worker running it proves the pipeline end to end."""
    heartbeat_record("worker")


# acks_late: a worker that dies mid-job leaves the message to be delivered again. Safe because the
# claim lets one worker in and every handler is idempotent.
@shared_task(name="shop_app.tasks.run_job", acks_late=True)
def run_job(job_pk: int) -> None:
    result = job_process(job_pk)
    if result.outcome in (Outcome.RETRY, Outcome.RESCHEDULED):
        # If the broker is down now, the row is still pending with its due time; the sweeper sends it.
        work_enqueue(run_job, job_pk, countdown=result.retry_in)


@shared_task(name="shop_app.tasks.sweep_jobs")
def sweep_jobs() -> None:
    """Beat, every minute."""
    jobs_sweep()
