"""A shop's background work other than webhook events, on the one background-work piece.

Each kind of job has one handler, registered by the module that owns it (in its AppConfig.ready):
`handler(job) -> float | None` does one step and returns None when the job is done, or the seconds
after which it runs again (a poll, the next chunk). A handler is idempotent: a worker dying
mid-step runs the step again. A transient failure (Shopify away, the database gone) is retried
with backoff; bad data fails the job at once, on record. Nothing runs for a shop that left.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop_app.models import Job, Shop, WorkStatus
from shop_app.work import (
    Outcome,
    RunResult,
    WorkKind,
    work_claim,
    work_enqueue,
    work_run,
    work_skip,
    work_sweep,
)

logger = logging.getLogger(__name__)

JobHandler = Callable[[Job], float | None]

_HANDLERS: dict[str, JobHandler] = {}


def job_handler_register(kind: str, handler: JobHandler) -> None:
    _HANDLERS[kind] = handler


def job_run_task() -> Task:
    # shop_app.tasks imports this module (its task calls job_process): the cycle is Celery's.
    from shop_app.tasks import run_job  # noqa: PLC0415

    return run_job


JOB_WORK: WorkKind[Job] = WorkKind(
    model=Job,
    task=job_run_task,
    max_attempts=lambda: settings.JOB_MAX_ATTEMPTS,
    retry_base_seconds=lambda: settings.JOB_RETRY_BASE_SECONDS,
    retry_max_seconds=lambda: settings.JOB_RETRY_MAX_SECONDS,
    name="job",
    # Handlers commit their own progress (an import in chunks): see WorkKind.atomic.
    atomic=False,
)

LIVE_STATUSES = (WorkStatus.PENDING, WorkStatus.PROCESSING)


def job_enqueue(
    shop: Shop, kind: str, *, key: str = "", arguments: dict[str, Any] | None = None, delay: float = 0
) -> Job:
    """Queue a job, sent to a worker once the current transaction commits. While a job of this
    kind and key waits or runs, that job is returned instead: it will read the state as it is then."""
    if kind not in _HANDLERS:
        raise LookupError(f"no job handler for {kind!r}")
    live = Job.objects.for_shop(shop).filter(kind=kind, key=key, status__in=LIVE_STATUSES)
    job = live.first()
    if job is not None:
        return job
    try:
        with transaction.atomic():
            job = Job.objects.create(
                shop=shop,
                kind=kind,
                key=key,
                arguments=arguments or {},
                available_at=timezone.now() + timedelta(seconds=delay),
            )
    except IntegrityError:
        # Queued by someone else between our read and our insert (one_live_job_per_key).
        return live.get()
    job_pk = job.pk
    transaction.on_commit(lambda: work_enqueue(job_run_task(), job_pk, countdown=delay))
    return job


def job_is_last_attempt(job: Job) -> bool:
    """Whether a transient failure now leaves the job failed (for handlers that must record it)."""
    return job.attempts >= JOB_WORK.max_attempts()


def job_process(job_pk: int) -> RunResult:
    job = work_claim(JOB_WORK, job_pk)
    if job is None:
        return RunResult(Outcome.NOT_CLAIMED)
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        return work_skip(JOB_WORK, job, "no handler for this kind")
    if not job.shop.is_installed:
        return work_skip(JOB_WORK, job, "shop not installed when processed")
    return work_run(JOB_WORK, job, handler)


def jobs_sweep(now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute (see shop_app.work.work_sweep)."""
    return work_sweep(JOB_WORK, now, limit)
