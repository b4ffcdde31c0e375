"""The sweeper of shop_app.work: it fails rows whose worker died once they have used their attempts,
sends a due row once however many sweeps overlap, and stops at the first publish the broker
refuses, leaving the rest pending for the next sweep. Driven with webhook events, the kind of work
that uses it today; publishing is recorded instead of sent."""

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from shop_app import work
from shop_app.models import Shop
from tests.webhooks.conftest import stored_event
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import WEBHOOK_WORK

WORKER_LOST = "worker lost while processing"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pks the sweeper published, in order, with a broker that accepts everything."""
    sent: list[int] = []
    monkeypatch.setattr(work, "_publish", lambda task, pk, countdown=0: sent.append(pk))
    return sent


def due_events(shop: Shop, now: datetime, count: int) -> list[WebhookEvent]:
    """Pending events well past their due time: the broker never delivered them."""
    long_ago = now - timedelta(hours=1)
    return [
        stored_event(
            shop, event_id=f"due-{n}", received_at=long_ago, available_at=long_ago + timedelta(seconds=n)
        )
        for n in range(count)
    ]


def test_a_row_whose_worker_died_on_its_last_attempt_is_failed_not_sent_again(
    shop: Shop, published: list[int]
) -> None:
    # Given two rows claimed by workers that died long ago: one on its last attempt, one not
    now = timezone.now()
    long_ago = now - timedelta(hours=2)
    exhausted, retryable = (
        stored_event(
            shop,
            event_id=event_id,
            received_at=long_ago,
            available_at=long_ago,
            status=EventStatus.PROCESSING,
            claimed_at=long_ago,
            attempts=attempts,
        )
        for event_id, attempts in (("last", settings.WEBHOOK_MAX_ATTEMPTS), ("earlier", 1))
    )

    # When the sweeper runs
    sent = work.work_sweep(WEBHOOK_WORK, now=now)

    # Then the one out of attempts is failed, saying why, and not sent to a worker again
    exhausted.refresh_from_db()
    assert exhausted.status == EventStatus.FAILED
    assert exhausted.last_error == WORKER_LOST
    assert exhausted.processed_at == now
    assert exhausted.attempts == settings.WEBHOOK_MAX_ATTEMPTS
    # And the other one is freed and sent again
    retryable.refresh_from_db()
    assert retryable.status == EventStatus.PENDING
    assert retryable.last_error == WORKER_LOST
    assert published == [retryable.pk]
    assert sent == 1


def test_a_claim_younger_than_the_time_limit_is_left_to_its_worker(shop: Shop, published: list[int]) -> None:
    now = timezone.now()
    event = stored_event(
        shop, status=EventStatus.PROCESSING, claimed_at=now - timedelta(seconds=30), attempts=1
    )

    assert work.work_sweep(WEBHOOK_WORK, now=now) == 0

    event.refresh_from_db()
    assert (event.status, event.last_error, event.attempts) == (EventStatus.PROCESSING, "", 1)
    assert published == []


def test_a_second_sweep_at_the_same_moment_sends_nothing_again(shop: Shop, published: list[int]) -> None:
    # Given two events the broker never delivered, and a sweep that sent them
    now = timezone.now()
    events = due_events(shop, now, 2)
    assert work.work_sweep(WEBHOOK_WORK, now=now) == 2

    # When another sweep runs at the same moment
    sent = work.work_sweep(WEBHOOK_WORK, now=now)

    # Then it sends nothing: each event was sent once
    assert sent == 0
    assert published == [event.pk for event in events]


def test_of_two_overlapping_sweeps_only_one_sends_a_row(
    shop: Shop, published: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event the broker never delivered
    now = timezone.now()
    (event,) = due_events(shop, now, 1)
    # And a second sweep that runs after the first has read the due rows, before it takes this one
    # (two beat schedulers, or a sweep that outlived its minute)
    real_backoff = work.sweep_backoff
    overlapping: list[int] = []

    def backoff_with_a_sweep_in_between(sweeps: int, grace: timedelta) -> timedelta:
        # Called by each sweep between its read and its update; the outer one starts the other
        monkeypatch.setattr(work, "sweep_backoff", real_backoff)
        overlapping.append(work.work_sweep(WEBHOOK_WORK, now=now))
        return real_backoff(sweeps, grace)

    monkeypatch.setattr(work, "sweep_backoff", backoff_with_a_sweep_in_between)

    # When the first sweep runs
    sent_by_first = work.work_sweep(WEBHOOK_WORK, now=now)

    # Then the sweep that took the row first sent it, and the other sent nothing
    assert overlapping == [1]
    assert sent_by_first == 0
    assert published == [event.pk]
    event.refresh_from_db()
    assert event.sweeps == 1


def test_a_sweep_stops_at_the_first_publish_the_broker_refuses(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three events the broker never delivered, and a broker still down
    now = timezone.now()
    first, *rest = due_events(shop, now, 3)
    attempted: list[int] = []

    def broker_down(task: Any, pk: int, countdown: float = 0) -> None:
        attempted.append(pk)
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(work, "_publish", broker_down)

    # When the sweeper runs
    sent = work.work_sweep(WEBHOOK_WORK, now=now)

    # Then it tried the oldest one only, and marked the broker down for the web processes
    assert sent == 0
    assert attempted == [first.pk]
    assert work._broker_down_until > time.monotonic()
    # And every event is still pending; those it never tried are untouched
    statuses = WebhookEvent.objects.for_shop(shop).values_list("status", flat=True)
    assert set(statuses) == {EventStatus.PENDING}
    assert [event.sweeps for event in WebhookEvent.objects.filter(pk__in=[e.pk for e in rest])] == [0, 0]

    # When the broker is back, the next sweep sends those it never tried, whatever the mark says
    sent_later: list[int] = []
    monkeypatch.setattr(work, "_publish", lambda task, pk, countdown=0: sent_later.append(pk))
    assert work.work_sweep(WEBHOOK_WORK, now=now + timedelta(minutes=1)) == 2
    assert sent_later == [event.pk for event in rest]


def test_a_steady_stream_of_one_group_is_woken_a_few_times_a_second_not_once_per_row(
    shop: Shop, published: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a real broker's behaviour (not eager), and a wake-up thread of its own for this test
    monkeypatch.setattr(work, "_wake_ups", work._WakeUps())
    task = WEBHOOK_WORK.task()
    eager = task.app.conf.task_always_eager
    task.app.conf.task_always_eager = False
    try:
        # When rows of one group are stored every 5 ms for a second, as during a sale
        stored = 0
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            stored += 1
            work.work_enqueue_soon(task, stored, together=(shop.pk, "orders/create"))
            time.sleep(0.005)
        work.work_wake_ups_flush()
    finally:
        task.app.conf.task_always_eager = eager

    # Then the thread published a few wake-ups, not one every few rows (each publish costs the web
    # process more CPU than storing a row), and the last stands for the newest row
    assert stored > 20
    assert len(published) <= 5
    assert published[-1] == stored


def test_wake_ups_from_requests_are_published_by_another_thread_one_per_group(
    shop: Shop, published: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a real broker's behaviour (not eager), and a thread slow enough to be seen waiting
    monkeypatch.setattr(work, "WAKE_UP_GATHER_SECONDS", 30.0)
    task = WEBHOOK_WORK.task()
    eager = task.app.conf.task_always_eager
    task.app.conf.task_always_eager = False
    try:
        # When three rows of one group and two rows on their own ask for a worker
        for pk in (11, 12, 13):
            work.work_enqueue_soon(task, pk, together=(shop.pk, "orders/create"))
        work.work_enqueue_soon(task, 21)
        work.work_enqueue_soon(task, 22)
        asked_at_once = list(published)
        work.work_wake_ups_flush()
    finally:
        task.app.conf.task_always_eager = eager

    # Then the requests published nothing themselves; then one wake-up went for the group, for the
    # row stored last (its worker takes the group's ready rows), and one for each other row
    assert asked_at_once == []
    assert sorted(published) == [13, 21, 22]
