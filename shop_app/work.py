"""One way to run background work that must not be lost or done twice.

A unit of work is a row (a model inheriting shop_app.models.QueuedWork): status, attempts, last
error, when it is next due. Celery only carries wake-ups, "row N is ready"; the row carries the
truth. So:

- a worker takes a row by a conditional UPDATE (work_claim): of two workers sent the same row (a
  duplicate message, the sweeper), exactly one proceeds;
- it runs the work and marks the row done in one transaction (work_run): done exactly when the
  effects are stored;
- work that is cheaper done many rows at a time (set-based) may take ready rows like the one it was
  sent (work_claim_alike) and run them together (work_run_together): all done in one transaction,
  or, if that fails, each run on its own, so a row's failure is recorded on that row alone;
- a permanent failure (bad data: no retry can fix it) fails the row at once, with its reason; a
  transient one (the database, the broker, Shopify being away) is retried with backoff, up to a cap;
- the sweeper (work_sweep, beat) sends again what the broker never delivered and frees rows whose
  worker died;
- enqueueing (work_enqueue) never holds a request for long: with the broker down, the row waits
  for the sweeper; a request that stores work does not publish at all (work_enqueue_soon): a
  thread of its process does, a moment later, one wake-up for many rows when their work is taken
  together.

Webhook events use it today; newsletter deliveries, redemptions and profile recomputes will.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from celery import Task
from django.conf import settings
from django.db import DataError, transaction
from django.db import Error as DatabaseError
from django.db.models import F, QuerySet
from django.utils import timezone

from shop_app.models import QueuedWork, WorkStatus

logger = logging.getLogger(__name__)


class PermanentError(Exception):
    """The work cannot succeed as it stands (malformed data, a refused input): retrying reads the
    same input and fails the same way. Raise a subclass; the row fails at once, replayable."""


class WorkIgnored(Exception):
    """The work found nothing to do, for a reason worth keeping: its transaction rolls back and the
    row is marked ignored with this message as its note (replayable)."""


# Failures that no retry can fix, besides PermanentError: what malformed data raises where no parser
# foresaw it (int("two"), a missing key, None where a dict was expected), a value the database
# refuses (a NUL in a text, a value longer than its column, an integer out of range), and input
# nested too deep to walk. What is transient (the database or the broker going away, a timeout)
# raises none of these.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentError,
    ValueError,
    KeyError,
    TypeError,
    DataError,
    RecursionError,
)


W = TypeVar("W", bound=QueuedWork)


@dataclass(frozen=True)
class WorkKind(Generic[W]):
    """How one kind of work is queued: its rows, the task that runs one, and its retry policy."""

    model: type[W]
    task: Callable[[], Task]  # the Celery task taking the row's pk (a callable: tasks import services)
    max_attempts: Callable[[], int]
    retry_base_seconds: Callable[[], float]
    retry_max_seconds: Callable[[], float]
    name: str = "work"
    # Whether the work and the row's "done" are one transaction. A long job that commits its own
    # progress as it goes (an import in chunks) runs outside one, and must be idempotent: a worker
    # dying between its work and the mark runs it again.
    atomic: bool = True


class Outcome(enum.Enum):
    NOT_CLAIMED = "not_claimed"
    DONE = "done"
    # The work did a step and asked to run again later (a poll, the next chunk).
    RESCHEDULED = "rescheduled"
    IGNORED = "ignored"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    retry_in: float = 0.0


def error_text(error: BaseException) -> str:
    """What a failed row records. Our own errors' messages name fields, never values, and are kept.
    Messages that may quote the data (a database error quoting the value it refused, a KeyError
    naming an email) are left out: only the type is recorded."""
    if isinstance(error, PermanentError) or not isinstance(
        error, DatabaseError | RecursionError | ValueError | KeyError | TypeError
    ):
        return f"{type(error).__name__}: {error}"[:2000]
    return type(error).__name__


def retry_delay(kind: WorkKind[Any], attempts: int) -> float:
    """base, 4x base, 16x base, ... capped: exponential, so a database outage has time to end."""
    return float(min(kind.retry_base_seconds() * 4 ** max(attempts - 1, 0), kind.retry_max_seconds()))


def work_claim(kind: WorkKind[W], pk: int) -> W | None:
    """Take the row for this worker with a conditional UPDATE; None if another took it or it is
    not pending."""
    claimed = kind.model._default_manager.filter(pk=pk, status=WorkStatus.PENDING).update(
        status=WorkStatus.PROCESSING, claimed_at=timezone.now(), attempts=F("attempts") + 1, sweeps=0
    )
    if not claimed:
        return None
    return kind.model._default_manager.get(pk=pk)


def work_skip(kind: WorkKind[W], row: W, note: str) -> RunResult:
    """Record a claimed row as ignored without running it (its reason in the note)."""
    kind.model._default_manager.filter(pk=row.pk, status=WorkStatus.PROCESSING).update(
        status=WorkStatus.IGNORED, note=note[:255], processed_at=timezone.now()
    )
    return RunResult(Outcome.IGNORED)


def work_run(kind: WorkKind[W], row: W, work: Callable[[W], float | None]) -> RunResult:
    """Run a claimed row's work and record the outcome. The work returns None when it is done, or
    the seconds after which it is to run again (a step of a longer job: a poll, the next chunk)."""
    rows = kind.model._default_manager.filter(pk=row.pk, status=WorkStatus.PROCESSING)
    try:
        with transaction.atomic() if kind.atomic else contextlib.nullcontext():
            again_in = work(row)
            now = timezone.now()
            # In the work's transaction: the row is done exactly when its effects are stored.
            if again_in is None:
                rows.update(status=WorkStatus.DONE, processed_at=now, last_error="")
            else:
                # A step done is progress: the next step starts with a fresh set of attempts.
                rows.update(
                    status=WorkStatus.PENDING,
                    attempts=0,
                    last_error="",
                    available_at=now + timedelta(seconds=again_in),
                )
    except WorkIgnored as ignored:
        logger.info("%s %s ignored: %s", kind.name, row.pk, ignored)
        rows.update(status=WorkStatus.IGNORED, note=str(ignored)[:255], processed_at=timezone.now())
        return RunResult(Outcome.IGNORED)
    except PERMANENT_ERRORS as error:
        logger.warning("%s %s failed: %s", kind.name, row.pk, error_text(error))
        rows.update(status=WorkStatus.FAILED, last_error=error_text(error), processed_at=timezone.now())
        return RunResult(Outcome.FAILED)
    except Exception as error:
        return _transient_failure_record(kind, row, rows, error)
    if again_in is not None:
        return RunResult(Outcome.RESCHEDULED, retry_in=again_in)
    return RunResult(Outcome.DONE)


def work_claim_alike(kind: WorkKind[W], rows: QuerySet[W], limit: int) -> list[W]:
    """Take up to `limit` of `rows` that are ready (pending and due) for this worker, by the same
    conditional UPDATE as work_claim, oldest due first. Rows another worker is taking at this moment
    are skipped rather than waited for (SKIP LOCKED; SQLite has one writer at a time anyway)."""
    if limit <= 0:
        return []
    now = timezone.now()
    manager = kind.model._default_manager
    with transaction.atomic():
        ready = list(
            rows.filter(status=WorkStatus.PENDING, available_at__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("available_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ready:
            return []
        # Locked and pending, so this takes them all; conditional all the same, like work_claim.
        manager.filter(pk__in=ready, status=WorkStatus.PENDING).update(
            status=WorkStatus.PROCESSING, claimed_at=now, attempts=F("attempts") + 1, sweeps=0
        )
    return list(manager.filter(pk__in=ready, status=WorkStatus.PROCESSING, claimed_at=now).order_by("pk"))


def work_run_together(
    kind: WorkKind[W],
    rows: list[W],
    work: Callable[[list[W]], None],
    work_one: Callable[[W], float | None],
) -> dict[int, RunResult]:
    """Run claimed rows' work in one go (`work`, set-based) and mark them all done in its
    transaction. If it raises, none of it stays and each row runs on its own with `work_one`
    (work_run): a bad row then fails alone, with its own reason, a transient failure is retried per
    row, and the others are done. Returns each row's outcome by pk."""
    try:
        with transaction.atomic():
            work(rows)
            kind.model._default_manager.filter(
                pk__in=[row.pk for row in rows], status=WorkStatus.PROCESSING
            ).update(status=WorkStatus.DONE, processed_at=timezone.now(), last_error="")
    except Exception as error:
        logger.info(
            "%s: %s rows failed together (%s); each runs on its own", kind.name, len(rows), error_text(error)
        )
        return {row.pk: work_run(kind, row, work_one) for row in rows}
    return {row.pk: RunResult(Outcome.DONE) for row in rows}


def _transient_failure_record(kind: WorkKind[W], row: W, rows: QuerySet[W], error: Exception) -> RunResult:
    """Schedule the next attempt with backoff, or, out of attempts, leave the row failed."""
    if row.attempts >= kind.max_attempts():
        logger.exception("%s %s failed after %s attempts", kind.name, row.pk, row.attempts)
        rows.update(status=WorkStatus.FAILED, last_error=error_text(error), processed_at=timezone.now())
        return RunResult(Outcome.FAILED)
    delay = retry_delay(kind, row.attempts)
    logger.warning("%s %s attempt %s failed, retry in %ss", kind.name, row.pk, row.attempts, delay)
    rows.update(
        status=WorkStatus.PENDING,
        last_error=error_text(error),
        available_at=timezone.now() + timedelta(seconds=delay),
    )
    return RunResult(Outcome.RETRY, retry_in=delay)


# --- Enqueueing ----------------------------------------------------------------------------------

# After a failed publish, publishing is skipped for this long: each request would otherwise wait on
# the broker again. Rows published nothing wait for the sweeper, so nothing is lost.
BROKER_DOWN_PAUSE_SECONDS = 10.0
# How long one publish may wait for a broker connection. kombu's own connect retries would hold a
# webhook request past Shopify's five seconds.
BROKER_CONNECT_TIMEOUT_SECONDS = 0.25

_broker_down_until = 0.0
_broker_lock = threading.Lock()


def _broker_marked_down() -> bool:
    return time.monotonic() < _broker_down_until


def _broker_mark_down() -> None:
    global _broker_down_until  # noqa: PLW0603 - one flag per process, shared by its threads
    with _broker_lock:
        _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE_SECONDS


def _publish(task: Task, pk: int, countdown: float = 0) -> None:
    """Publish one message, failing fast: one quick connect attempt on a pooled connection (kombu
    would otherwise retry its connection inside the publish, for seconds)."""
    pool: Any = task.app.pool
    with pool.acquire(block=True, timeout=BROKER_CONNECT_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CONNECT_TIMEOUT_SECONDS)
        options: dict[str, Any] = {"countdown": countdown, "retry": False, "connection": connection}
        task.apply_async((pk,), **options)


def work_enqueue(task: Task, pk: int, countdown: float = 0) -> bool:
    """Send the row's pk to a worker. Never raises and never waits long: if the broker is down the
    row stays pending and the sweeper sends it later. Returns whether it was sent."""
    if _broker_marked_down():
        return False
    try:
        _publish(task, pk, countdown)
    except Exception:
        _broker_mark_down()
        logger.warning("%s %s: broker unavailable, left for the sweeper", task.name, pk, exc_info=True)
        return False
    return True


# How long the wake-up thread gathers rows before it publishes. A publish through Celery costs one
# to two milliseconds of CPU, more than storing the row it wakes a worker for, and it runs in the
# web process beside the requests: gathered this long, a process publishes for a group of rows
# processed together at most four times a second whatever the rate of deliveries, and each
# wake-up's worker takes the group's ready rows a batch at a time. What it costs is a quarter of a
# second before a worker starts, which nobody waiting on a webhook notices.
WAKE_UP_GATHER_SECONDS = 0.25


class _WakeUps:
    """Wake-ups to publish soon, by a thread of this process, so that the request that stored the
    rows answers without touching the broker. Rows whose work is taken together (the same
    `together` key: work_claim_alike) share one wake-up, for the row added last: its worker claims
    it with the rows like it that are ready, and all of those were stored before it. If the process
    dies before publishing, the rows wait, pending, for the sweeper: nothing is lost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._publishing = threading.Lock()
        self._due = threading.Event()
        self._waiting: dict[Hashable, tuple[Task, int]] = {}
        self._thread: threading.Thread | None = None

    def add(self, task: Task, pk: int, together: Hashable | None) -> None:
        key = (task.name, together) if together is not None else (task.name, None, pk)
        with self._lock:
            self._waiting.pop(key, None)  # re-inserted last: the group's newest row stands for it
            self._waiting[key] = (task, pk)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="work-wake-ups", daemon=True)
                self._thread.start()
        self._due.set()

    def flush(self) -> None:
        """Publish every wake-up added so far, now, and return once they are sent (or refused)."""
        with self._publishing:
            with self._lock:
                waiting, self._waiting = self._waiting, {}
            for task, pk in waiting.values():
                work_enqueue(task, pk)

    def _run(self) -> None:
        while True:
            self._due.wait()
            time.sleep(WAKE_UP_GATHER_SECONDS)
            self._due.clear()
            try:
                self.flush()
            except Exception:  # work_enqueue never raises; this thread must outlive anything else
                logger.exception("publishing wake-ups failed; the sweeper will send them")


_wake_ups = _WakeUps()
# A worker process stopping (gunicorn's graceful restart) publishes what it gathered.
atexit.register(_wake_ups.flush)


def work_enqueue_soon(task: Task, pk: int, together: Hashable | None = None) -> None:
    """work_enqueue, for a request: returns at once, and the wake-up is published a moment later
    by a thread of this process (one for the rows of one `together` key, see _WakeUps). Eager
    Celery (tests) runs the task now, as work_enqueue does."""
    if task.app.conf.task_always_eager:
        work_enqueue(task, pk)
    else:
        _wake_ups.add(task, pk, together)


def work_wake_ups_flush() -> None:
    """Publish the wake-ups work_enqueue_soon gathered, now."""
    _wake_ups.flush()


def work_enqueue_on_commit(kind: WorkKind[Any], pk: int) -> None:
    transaction.on_commit(lambda: work_enqueue(kind.task(), pk))


# --- The sweeper and replay ----------------------------------------------------------------------

# The longest the sweeper waits between two sends of a pending row no worker has taken.
SWEEP_BACKOFF_CAP = timedelta(hours=1)


def sweep_backoff(sweeps: int, grace: timedelta) -> timedelta:
    """How long the sweeper waits after its `sweeps`-th send of a row before sending it again: the
    grace period, then twice as long each time, capped so that a row no worker ever takes is
    still sent at least once an hour."""
    return min(grace * 2 ** min(max(sweeps - 1, 0), 16), max(SWEEP_BACKOFF_CAP, grace))


def work_sweep(kind: WorkKind[Any], now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: send again what the broker never delivered (it was down, or lost the
    message) and free rows whose worker died mid-way. Returns how many were enqueued. Sending a row
    twice is harmless: only one worker can claim it."""
    now = now or timezone.now()
    manager = kind.model._default_manager
    grace = timedelta(seconds=settings.WORK_SWEEP_GRACE_SECONDS)
    # A claim older than the hard time limit belongs to a worker that is gone.
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) - grace
    for row in manager.filter(status=WorkStatus.PROCESSING, claimed_at__lt=stale)[:limit]:
        rows = manager.filter(pk=row.pk, status=WorkStatus.PROCESSING, claimed_at=row.claimed_at)
        if row.attempts >= kind.max_attempts():
            rows.update(status=WorkStatus.FAILED, last_error="worker lost while processing", processed_at=now)
        else:
            rows.update(
                status=WorkStatus.PENDING, last_error="worker lost while processing", available_at=now - grace
            )
    due = list(
        manager.filter(status=WorkStatus.PENDING, available_at__lte=now - grace)
        .order_by("available_at")
        .values_list("pk", "sweeps")[:limit]
    )
    sent = 0
    for pk, sweeps in due:
        # Push the due time forward so the next sweep waits for this send to be worked: the row is
        # picked up again `grace` after available_at, so this one is next sent `wait` from now.
        # Conditional on `sweeps`: of two overlapping sweeps, one sends.
        wait = sweep_backoff(sweeps + 1, grace)
        moved = manager.filter(pk=pk, status=WorkStatus.PENDING, sweeps=sweeps).update(
            available_at=now + wait - grace, sweeps=F("sweeps") + 1
        )
        if not moved:
            continue
        try:
            # Whatever an earlier failure marked: the sweeper is what finds out the broker is back.
            _publish(kind.task(), pk)
        except Exception:
            _broker_mark_down()
            logger.warning("%s sweep: broker unavailable, %s left for the next sweep", kind.name, pk)
            break
        sent += 1
    if due:
        logger.info("%s sweep: %s due, %s enqueued", kind.name, len(due), sent)
    return sent


class ReplayRefused(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"work that is {status} cannot be replayed")
        self.status = status


REPLAYABLE_STATUSES = (WorkStatus.FAILED, WorkStatus.IGNORED)


def work_replay(kind: WorkKind[W], rows: QuerySet[W], row: W) -> W:
    """Run a failed (or ignored) row again with a fresh set of attempts. `rows` is the caller's
    tenant-scoped queryset the row was read from."""
    if not rows.filter(pk=row.pk, status__in=REPLAYABLE_STATUSES).update(
        status=WorkStatus.PENDING, attempts=0, sweeps=0, available_at=timezone.now(), note="replayed"
    ):
        raise ReplayRefused(row.status)
    work_enqueue_on_commit(kind, row.pk)
    row.refresh_from_db()
    return row
