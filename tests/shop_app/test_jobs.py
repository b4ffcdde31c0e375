"""A shop's jobs (shop_app.jobs) on the one background-work piece: queued once, stepped, retried,
failed on record, and never run for a shop that left."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from commerce.backfill import BACKFILL_STEP_JOB
from commerce.models import Backfill
from commerce.records import IngestError
from shop_app import jobs
from shop_app.jobs import job_enqueue, job_process
from shop_app.models import Job, Shop, WorkStatus
from shop_app.work import Outcome

KIND = "tests.step"


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the test job's handler returns (or raises) at each run, in order; it records runs."""
    planned: list[object] = []

    def handler(job: Job) -> float | None:
        outcome = planned.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[return-value]

    monkeypatch.setitem(jobs._HANDLERS, KIND, handler)
    return planned


def queued(shop: Shop) -> Job:
    return Job.objects.create(shop=shop, kind=KIND, available_at=timezone.now())


def test_a_job_asked_for_while_it_waits_is_queued_once(shop: Shop, steps: list[object]) -> None:
    first = job_enqueue(shop, KIND, key="a", delay=60)
    again = job_enqueue(shop, KIND, key="a", delay=60)
    other_key = job_enqueue(shop, KIND, key="b", delay=60)

    assert again.pk == first.pk
    assert other_key.pk != first.pk
    assert Job.objects.for_shop(shop).filter(key="a").count() == 1


def test_a_job_of_a_kind_nobody_handles_is_refused(shop: Shop) -> None:
    with pytest.raises(LookupError):
        job_enqueue(shop, "nobody.handles.this")
    assert not Job.objects.exists()


def test_a_step_that_asks_to_run_again_is_rescheduled_with_fresh_attempts(
    shop: Shop, steps: list[object]
) -> None:
    job = queued(shop)
    Job.objects.filter(pk=job.pk).update(attempts=3)
    steps.extend([30.0, None])

    first = job_process(job.pk)

    job.refresh_from_db()
    assert (first.outcome, first.retry_in) == (Outcome.RESCHEDULED, 30.0)
    assert (job.status, job.attempts) == (WorkStatus.PENDING, 0)
    assert job.available_at > timezone.now() + timedelta(seconds=25)

    second = job_process(job.pk)

    job.refresh_from_db()
    assert second.outcome is Outcome.DONE
    assert job.status == WorkStatus.DONE


@override_settings(JOB_MAX_ATTEMPTS=2, JOB_RETRY_BASE_SECONDS=5)
def test_a_transient_failure_is_retried_with_backoff_then_left_failed(
    shop: Shop, steps: list[object]
) -> None:
    job = queued(shop)
    steps.extend([OperationalError("database went away"), OperationalError("database went away")])

    first = job_process(job.pk)
    job.refresh_from_db()
    assert (first.outcome, first.retry_in) == (Outcome.RETRY, 5.0)
    assert job.status == WorkStatus.PENDING

    second = job_process(job.pk)
    job.refresh_from_db()
    assert second.outcome is Outcome.FAILED
    assert (job.status, job.attempts, job.last_error) == (WorkStatus.FAILED, 2, "OperationalError")


def test_bad_data_fails_the_job_at_once_with_its_reason(shop: Shop, steps: list[object]) -> None:
    job = queued(shop)
    steps.append(IngestError("product.updated_at: missing"))

    result = job_process(job.pk)

    job.refresh_from_db()
    assert result.outcome is Outcome.FAILED
    assert (job.attempts, job.last_error) == (1, "IngestError: product.updated_at: missing")


def test_an_import_step_with_bad_data_fails_the_import_the_merchant_sees(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an import whose next step meets a malformed line
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, bulk_operation_id="gid://x/1"
    )
    job = Job.objects.create(
        shop=shop,
        kind=BACKFILL_STEP_JOB,
        key=str(backfill.pk),
        arguments={"backfill_id": backfill.pk},
        available_at=timezone.now(),
    )

    def malformed(backfill: Backfill, client: object) -> float:
        raise IngestError("customer.id: not an id")

    monkeypatch.setattr("commerce.backfill.admin_client_for_shop", lambda shop: object())
    monkeypatch.setattr("commerce.backfill.backfill_advance", malformed)

    # When the step runs
    job_process(job.pk)

    # Then the job failed on record, and so did the import: it does not stay "running"
    job.refresh_from_db()
    backfill.refresh_from_db()
    assert job.status == WorkStatus.FAILED
    assert backfill.status == Backfill.Status.FAILED
    assert backfill.error == "IngestError: customer.id: not an id"
