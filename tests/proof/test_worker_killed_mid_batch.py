"""A real worker process killed while it works through 2,000 order webhooks: after beat's sweeper
runs and a new worker starts, every event is done and every effect exists exactly once (each order
and its lines, each paid order's points, the balances the ledger adds up to), and no event was
worked twice but those the dead worker held.

The kill is placed where it hurts: the jobs table is locked, so the worker stops at its first write
to it, the follow-up work (points, profiles) of the batch it is applying, and is killed there. A
batch whose orders were committed without that follow-up left their points unearned for good (the
bug this test found: webhooks.reactions queued it after commit); one rolled back with its
follow-up is claimed again once the sweeper frees it.

(A worker killed while it sends a newsletter is tests/newsletters/test_sending.py,
test_a_worker_killed_mid_send_sends_no_email_twice.)"""

import json
import signal
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from commerce.models import Order, OrderLine
from loyalty.earning import ORDERS_SYNC
from loyalty.ledger import ledger_differences
from loyalty.models import Entry
from loyalty.program import program_for
from shop_app.models import Job, Shop, WorkStatus
from tests.live import celery_worker_start, database_url_of_this_test, wait_for
from tests.webhooks.conftest import payload
from webhooks.intake import WebhookDelivery, webhook_event_store
from webhooks.models import WebhookEvent
from webhooks.processing import BATCH_SIZE, webhook_events_sweep

pytestmark = pytest.mark.integration

EVENTS = 2000
SHOPPERS = 50
PAID_EVERY = 10
FIRST_ORDER = 880_000
FIRST_SHOPPER = 7_700


@pytest.fixture
def worker_environment() -> dict[str, str]:
    # The points' theme mirror writes to Shopify: here, to a port nobody listens on (refused, and
    # retried later), so that nothing leaves the machine.
    return {"SHOPIFY_BASE_URL_OVERRIDE": "http://127.0.0.1:9"}


def placed_order(number: int, at: str) -> dict[str, Any]:
    """Shopify's sample orders/create as order `number` of one of SHOPPERS shoppers: one in
    PAID_EVERY paid at once (it earns points), the others waiting for their payment."""
    body = payload("orders_create")
    shopper = FIRST_SHOPPER + number % SHOPPERS
    del body["subtotal_price_set"]
    body.update(
        id=FIRST_ORDER + number,
        name=f"#{FIRST_ORDER + number}",
        financial_status="paid" if number % PAID_EVERY == 0 else "pending",
        cancelled_at=None,
        cancel_reason=None,
        subtotal_price=f"{10 + number % 90}.00",
        created_at=at,
        processed_at=at,
        updated_at=at,
        email=f"shopper{shopper}@example.com",
    )
    body["customer"] = {**body["customer"], "id": shopper, "email": body["email"], "updated_at": at}
    return body


def deliveries_store(shop: Shop, orders: list[dict[str, Any]]) -> None:
    """Store the deliveries as intake does, in one transaction: the worker starts on all of them
    at once (one wake-up for the shop's orders/create, as intake sends for deliveries close in
    time), so it works through the batches back to back."""
    now = timezone.now()
    with transaction.atomic():
        for number, order in enumerate(orders):
            webhook_event_store(
                WebhookDelivery(
                    shop_domain=shop.domain,
                    topic="orders/create",
                    event_id=f"proof-{number}",
                    webhook_id=f"webhook-{number}",
                    api_version="2026-10",
                    triggered_at=now,
                    body=json.dumps(order).encode(),
                )
            )


@pytest.fixture
def jobs_table_lock(transactional_db: None) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own that can hold the jobs table locked while the worker runs."""
    with psycopg.connect(database_url_of_this_test()) as holder:
        yield holder


def worker_waits_for_the_jobs_table() -> bool:
    """the worker waits for the jobs table"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE %s",
            [f"%{Job._meta.db_table}%"],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_worker_killed_mid_batch_leaves_every_effect_exactly_once_after_restart(
    shop: Shop,
    celery_worker_process: subprocess.Popen[str],
    worker_environment: dict[str, str],
    jobs_table_lock: psycopg.Connection[Any],
    tmp_path: Path,
    settings: Any,
) -> None:
    # Given a shop with a loyalty program, and 2,000 orders of 50 shoppers delivered to it
    program_for(shop)
    at = timezone.now().isoformat()
    orders = [placed_order(number, at) for number in range(EVENTS)]
    deliveries_store(shop, orders)
    events = WebhookEvent.objects.for_shop(shop)

    # When the worker is killed at its first write to the jobs table after the first 300 events
    def some_done() -> bool:
        """the worker applied its first batches"""
        return events.filter(status=WorkStatus.DONE).count() >= 300

    wait_for(some_done, timeout=60, interval=0.02)
    jobs_table_lock.execute(f"LOCK TABLE {Job._meta.db_table} IN EXCLUSIVE MODE")
    wait_for(worker_waits_for_the_jobs_table, timeout=30, interval=0.01)
    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    jobs_table_lock.rollback()
    held = set(events.filter(status=WorkStatus.PROCESSING).values_list("pk", flat=True))
    done_at_kill = events.filter(status=WorkStatus.DONE).count()
    assert done_at_kill < EVENTS, "the worker finished before it was killed: nothing was proven"

    # And beat's sweeper runs, as it does once the dead worker's claim is older than the task time
    # limit (here, in this process, both that limit and the grace are nothing); then a new worker
    # starts
    settings.CELERY_TASK_TIME_LIMIT = settings.WORK_SWEEP_GRACE_SECONDS = 0
    webhook_events_sweep(limit=BATCH_SIZE)
    with (tmp_path / "worker.log").open("w") as log:
        replacement = celery_worker_start(worker_environment, output=log)
        try:

            def events_settled() -> bool:
                """every event is done or failed"""
                return not events.filter(status__in=[WorkStatus.PENDING, WorkStatus.PROCESSING]).exists()

            def points_settled() -> bool:
                """every points job queued ran"""
                return (
                    not Job.objects.for_shop(shop)
                    .filter(kind=ORDERS_SYNC)
                    .exclude(status=WorkStatus.DONE)
                    .exists()
                )

            wait_for(events_settled, timeout=90, interval=0.2)
            wait_for(points_settled, timeout=60, interval=0.2)
        finally:
            replacement.terminate()
            replacement.wait(timeout=20)

    # Then every event is done, and each order is stored once with its lines
    assert events.filter(status=WorkStatus.DONE).count() == EVENTS
    assert Order.objects.for_shop(shop).count() == EVENTS
    assert OrderLine.objects.for_shop(shop).count() == EVENTS * len(orders[0]["line_items"])
    # And each paid order earned its points exactly once, and every balance is what its ledger says
    paid = [order for order in orders if order["financial_status"] == "paid"]
    earned = Entry.objects.for_shop(shop).filter(kind=Entry.Kind.EARN)
    keys = list(earned.values_list("idempotency_key", flat=True))
    missing = {f"order:{order['id']}:earn" for order in paid} - set(keys)
    assert not missing, f"{len(missing)} paid orders never earned their points"
    assert len(keys) == len(paid)
    assert earned.aggregate(total=Sum("points"))["total"] == sum(
        int(Decimal(order["subtotal_price"])) for order in paid
    )
    assert ledger_differences(shop) == []
    # And no event was worked twice but those the dead worker held, which the sweeper freed
    assert held, "the worker was not killed inside a batch"
    assert set(events.filter(attempts__gt=1).values_list("pk", flat=True)) == held
    assert not events.filter(attempts__gt=2).exists()
