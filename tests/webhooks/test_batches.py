"""Order events processed together: a worker sent one event takes the ready events of its shop and
topic and applies them set-based, with the outcome one-by-one processing would have."""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from commerce.models import ConsentLogEntry, Customer, Order, OrderLine
from privacy.suppression import shopper_suppress
from shop_app.models import Shop
from tests.webhooks.conftest import payload, stored_event
from webhooks import processing
from webhooks.models import EventStatus, WebhookEvent
from webhooks.privacy import REDACTED_BODY
from webhooks.processing import webhook_event_process, webhook_events_process
from webhooks.reactions import ShopperChange


def order(order_id: int, updated_at: str, *, customer_id: int = 501, **changes: Any) -> dict[str, Any]:
    body = payload("orders_create")
    body.update(id=order_id, name=f"#{order_id}", updated_at=updated_at, **changes)
    body["customer"] = {
        **body["customer"],
        "id": customer_id,
        "email": f"shopper{customer_id}@example.com",
        "updated_at": updated_at,
    }
    return body


def mixed_deliveries() -> list[tuple[dict[str, Any], str]]:
    """(payload, X-Shopify-Triggered-At) as a busy shop's orders/updated arrive: duplicates, an older
    state after a newer one, two states in one second ordered by their emission, a shopper shared."""
    return [
        (order(1, "2026-03-01T10:00:00Z", financial_status="pending"), "2026-03-01T10:00:00.100Z"),
        (order(1, "2026-03-01T11:00:00Z", financial_status="paid"), "2026-03-01T11:00:00.100Z"),
        # older, late: changes nothing
        (order(1, "2026-03-01T10:30:00Z", financial_status="voided"), "2026-03-01T10:30:00.100Z"),
        # the same state again
        (order(1, "2026-03-01T11:00:00Z", financial_status="paid"), "2026-03-01T11:00:00.100Z"),
        # same second: the later emission wins, whichever comes first
        (order(2, "2026-03-01T12:00:00Z", financial_status="refunded"), "2026-03-01T12:00:00.900Z"),
        (order(2, "2026-03-01T12:00:00Z", financial_status="paid"), "2026-03-01T12:00:00.200Z"),
        (order(3, "2026-03-01T09:00:00Z", customer_id=502), "2026-03-01T09:00:00.100Z"),
        # fewer lines in the newer state
        (
            {
                **order(3, "2026-03-02T09:00:00Z", customer_id=502),
                "line_items": payload("orders_create")["line_items"][:1],
            },
            "2026-03-02T09:00:00.100Z",
        ),
        (order(4, "2026-03-01T08:00:00Z", customer_id=501), "2026-03-01T08:00:00.100Z"),
    ]


def store(
    shop: Shop, deliveries: list[tuple[dict[str, Any], str]], topic: str = "orders/updated"
) -> list[int]:
    return [
        stored_event(
            shop, topic, body, event_id=f"event-{number}", triggered_at=datetime.fromisoformat(at)
        ).pk
        for number, (body, at) in enumerate(deliveries)
    ]


def rows(shop: Shop) -> dict[str, Any]:
    """What processing left in the shop's tables, without row ids and times of writing."""

    def without_ids(values: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        dropped = {"id", "shop_id", "synced_at", "recorded_at", "customer_id", "order_id"}
        return [{key: value for key, value in row.items() if key not in dropped} for row in values]

    customers = dict(Customer.objects.for_shop(shop).values_list("pk", "shopify_id"))
    orders = dict(Order.objects.for_shop(shop).values_list("pk", "shopify_id"))
    return {
        "orders": [
            (customers.get(row["customer_id"]), without_ids([row])[0])
            for row in Order.objects.for_shop(shop).order_by("shopify_id").values()
        ],
        "lines": sorted(
            (orders[row["order_id"]], row["shopify_id"], row["quantity"])
            for row in OrderLine.objects.for_shop(shop).values()
        ),
        "customers": without_ids(Customer.objects.for_shop(shop).order_by("shopify_id").values()),
        "consent": sorted(
            (tuple(entry.values()) for entry in without_ids(ConsentLogEntry.objects.for_shop(shop).values())),
            key=repr,
        ),
    }


def statuses(shop: Shop) -> list[str]:
    return list(WebhookEvent.objects.for_shop(shop).order_by("pk").values_list("status", flat=True))


def test_a_batch_with_duplicates_and_late_updates_leaves_the_rows_one_by_one_leaves(
    shop: Shop, other_shop: Shop, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    # Given the same deliveries stored for two shops
    batched = store(shop, mixed_deliveries())
    one_by_one = store(other_shop, mixed_deliveries())

    # When a worker is sent the first of one shop's events, and takes them all together (its
    # follow-up jobs, profiles and points, queued in the batch's transaction: nine queries)
    with django_assert_max_num_queries(40):
        outcomes = webhook_events_process(batched[0])
    # And the other shop's are processed one at a time, in the order they arrived
    monkeypatch.setattr(processing, "BATCH_SIZE", 1)
    for pk in one_by_one:
        webhook_event_process(pk)

    # Then every event of both is done once, the batch in one go
    assert sorted(outcomes) == batched
    assert statuses(shop) == statuses(other_shop) == [EventStatus.DONE] * len(batched)
    # And the orders, their lines, the shoppers and their consent are the same
    assert rows(shop) == rows(other_shop)
    held = {row.shopify_id: row.financial_status for row in Order.objects.for_shop(shop)}
    assert held == {1: "paid", 2: "refunded", 3: "voided", 4: "voided"}  # 3 and 4 as recorded
    assert OrderLine.objects.for_shop(shop).filter(order__shopify_id=3).count() == 1


def test_a_bad_event_in_a_batch_fails_alone_and_the_others_are_done(shop: Shop) -> None:
    # Given four orders/create events, one of them without its currency
    bad = order(3, "2026-03-01T10:00:00Z")
    del bad["currency"]
    pks = store(
        shop,
        [
            (order(1, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00.100Z"),
            (order(2, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00.100Z"),
            (bad, "2026-03-01T10:00:00.100Z"),
            (order(4, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00.100Z"),
        ],
        topic="orders/create",
    )

    # When a worker takes them together
    outcomes = webhook_events_process(pks[0])

    # Then the bad one failed at once with its own reason, and only it
    assert [outcomes[pk].outcome for pk in pks] == [
        processing.Outcome.DONE,
        processing.Outcome.DONE,
        processing.Outcome.FAILED,
        processing.Outcome.DONE,
    ]
    failed = WebhookEvent.objects.get(pk=pks[2])
    assert (failed.status, failed.attempts) == (EventStatus.FAILED, 1)
    assert "order.currency: missing" in failed.last_error
    assert sorted(Order.objects.for_shop(shop).values_list("shopify_id", flat=True)) == [1, 2, 4]


def test_a_transient_failure_of_a_batch_is_retried_per_event(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two events, and the database failing for the second one's order only
    pks = store(
        shop,
        [
            (order(1, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00Z"),
            (order(2, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00Z"),
        ],
        topic="orders/create",
    )
    real_upsert = processing.ingest.orders_upsert

    def flaky_upsert(shop: Shop, states: Any, **kwargs: Any) -> Any:
        if any(record.shopify_id == 2 for record, _ in states):
            raise ConnectionError("database went away")
        return real_upsert(shop, states, **kwargs)

    monkeypatch.setattr(processing.ingest, "orders_upsert", flaky_upsert)

    # When a worker takes them together
    outcomes = webhook_events_process(pks[0])

    # Then the first is done on its own and the second waits for its retry
    assert [outcomes[pk].outcome for pk in pks] == [processing.Outcome.DONE, processing.Outcome.RETRY]
    assert statuses(shop) == [EventStatus.DONE, EventStatus.PENDING]
    assert list(Order.objects.for_shop(shop).values_list("shopify_id", flat=True)) == [1]


def test_a_batch_announces_every_order_and_shopper_once(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    announced: list[ShopperChange] = []
    monkeypatch.setattr(processing, "shopper_change_announce", announced.append)
    pks = store(shop, mixed_deliveries())

    webhook_events_process(pks[0])

    orders = Order.objects.for_shop(shop)
    assert len(announced) == 1
    change = announced[0]
    assert (change.shop_id, change.cause) == (shop.pk, "orders/updated")
    assert sorted(change.order_ids) == sorted(orders.values_list("pk", flat=True))
    assert sorted(change.customer_ids) == sorted(set(orders.values_list("customer_id", flat=True)))


def test_an_erased_shopper_s_events_in_a_batch_are_erased_and_keep_nothing_personal(shop: Shop) -> None:
    # Given a shopper erased earlier, and a late order of theirs among others
    shopper_suppress(shop, customer_id=502, email="shopper502@example.com")
    pks = store(
        shop,
        [
            (order(1, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00Z"),
            (order(2, "2026-03-01T10:00:00Z", customer_id=502), "2026-03-01T10:00:00Z"),
        ],
        topic="orders/create",
    )

    webhook_events_process(pks[0])

    # Then their event's payload is erased and their order holds no one to contact
    erased = WebhookEvent.objects.get(pk=pks[1])
    assert erased.body == REDACTED_BODY
    assert WebhookEvent.objects.get(pk=pks[0]).body != REDACTED_BODY
    theirs = Order.objects.for_shop(shop).get(shopify_id=2)
    assert (theirs.email, theirs.customer_shopify_id, theirs.customer_id) == ("", None, None)
    assert not Customer.objects.for_shop(shop).filter(shopify_id=502).exists()


def test_a_batch_takes_neither_events_due_later_nor_another_shop_s_nor_another_topic_s(
    shop: Shop, other_shop: Shop
) -> None:
    sent = stored_event(shop, "orders/create", order(1, "2026-03-01T10:00:00Z"), event_id="sent")
    later = stored_event(
        shop,
        "orders/create",
        order(2, "2026-03-01T10:00:00Z"),
        event_id="retry-later",
        available_at=timezone.now() + timedelta(minutes=5),
    )
    other_topic = stored_event(shop, "orders/paid", order(3, "2026-03-01T10:00:00Z"), event_id="paid")
    other_shops = stored_event(other_shop, "orders/create", order(4, "2026-03-01T10:00:00Z"), event_id="x")

    outcomes = webhook_events_process(sent.pk)

    assert list(outcomes) == [sent.pk]
    for untouched in (later, other_topic, other_shops):
        untouched.refresh_from_db()
        assert (untouched.status, untouched.attempts) == (EventStatus.PENDING, 0)


def test_a_backlog_larger_than_a_batch_is_taken_in_batches_by_one_wake_up(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "BATCH_SIZE", 3)
    pks = store(
        shop,
        [(order(number, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00Z") for number in range(1, 9)],
        topic="orders/create",
    )

    outcomes = webhook_events_process(pks[-1])

    assert sorted(outcomes) == pks
    assert statuses(shop) == [EventStatus.DONE] * 8
    assert Order.objects.for_shop(shop).count() == 8


def test_a_task_that_met_its_batches_limit_leaves_no_event_claimed_and_sends_the_rest_on(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a backlog longer than one task takes
    monkeypatch.setattr(processing, "BATCH_SIZE", 2)
    monkeypatch.setattr(processing, "BATCHES_PER_TASK", 2)
    sent: list[int] = []

    def enqueue(pk: int, countdown: float = 0) -> bool:
        sent.append(pk)
        return True

    monkeypatch.setattr(processing, "webhook_event_enqueue", enqueue)
    pks = store(
        shop,
        [(order(number, "2026-03-01T10:00:00Z"), "2026-03-01T10:00:00Z") for number in range(1, 8)],
        topic="orders/create",
    )

    # When a worker is sent the first
    outcomes = webhook_events_process(pks[0])

    # Then it processed two batches, claimed nothing more, and sent a wake-up for the newest left
    assert sorted(outcomes) == pks[:4]
    assert statuses(shop) == [EventStatus.DONE] * 4 + [EventStatus.PENDING] * 3
    assert sent == [pks[-1]]
