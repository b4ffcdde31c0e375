import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DataError, connection
from django.test import override_settings
from django.utils import timezone

from commerce.models import Order
from commerce.records import IngestError
from shop_app.models import Shop
from tests.webhooks.conftest import Deliver, payload, stored_event
from webhooks import handlers
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import (
    ReplayRefused,
    retry_delay,
    sweep_backoff,
    webhook_event_process,
    webhook_event_replay,
    webhook_events_sweep,
)
from webhooks.tasks import process_webhook_event


def test_malformed_json_with_a_valid_hmac_is_stored_and_fails_with_a_clear_error(
    shop: Shop, deliver: Deliver
) -> None:
    response = deliver(shop, "orders/create", b'{"id": 820982911946154508, "line_items": [')

    assert response.status_code == 200
    event = WebhookEvent.objects.for_shop(shop).get()
    assert event.status == EventStatus.FAILED
    assert event.attempts == 1
    assert event.last_error.startswith("WebhookPayloadError: body is not valid JSON")
    assert not Order.objects.exists()


def test_json_that_is_not_an_object_fails_at_once(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", b"[1, 2, 3]")

    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert "not an object: list" in event.last_error


def test_an_order_without_its_required_fields_fails_naming_the_field(shop: Shop, deliver: Deliver) -> None:
    body = payload("orders_create")
    del body["currency"]

    deliver(shop, "orders/create", body)

    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert event.last_error == "IngestError: order.currency: missing"
    assert not Order.objects.exists()


def test_an_unknown_topic_is_recorded_and_acknowledged(shop: Shop, deliver: Deliver) -> None:
    response = deliver(shop, "themes/publish", {"id": 1})

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.IGNORED
    assert event.note == "unknown topic"


@override_settings(WEBHOOK_MAX_ATTEMPTS=3)
def test_a_transient_failure_is_retried_then_left_failed_and_replayable(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a handler that fails as if the database had gone away
    calls: list[int] = []

    def flaky(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
        calls.append(event.attempts)
        raise ConnectionError("database went away")

    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", flaky)

    # When the event arrives (eager tasks run each retry at once)
    deliver(shop, "orders/create", payload("orders_create"))

    # Then it was tried three times and stays failed with the error on record
    event = WebhookEvent.objects.get()
    assert calls == [1, 2, 3]
    assert event.status == EventStatus.FAILED
    assert event.attempts == 3
    assert event.last_error == "ConnectionError: database went away"

    # When the cause is fixed and the event is replayed
    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", handlers.order_changed)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_replay(shop, event.pk)

    # Then it is done, and the order is there
    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    assert Order.objects.for_shop(shop).count() == 1


def test_a_retry_is_scheduled_with_backoff(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    event = stored_event(shop)

    def flaky(*args: Any) -> None:
        raise TimeoutError("slow")

    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", flaky)
    before = timezone.now()

    result = webhook_event_process(event.pk)

    event.refresh_from_db()
    assert result.retry_in == 30.0
    assert event.status == EventStatus.PENDING
    assert event.available_at >= before + timedelta(seconds=30)
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 6)] == [30, 120, 480, 1920, 3600, 3600]


def test_an_event_already_claimed_is_not_processed_again(shop: Shop) -> None:
    event = stored_event(shop, status=EventStatus.PROCESSING, attempts=1)

    result = webhook_event_process(event.pk)

    event.refresh_from_db()
    assert result.outcome.value == "not_claimed"
    assert event.attempts == 1
    assert event.status == EventStatus.PROCESSING


def test_the_sweeper_sends_events_the_broker_never_delivered(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an order stored while the broker was down
    real_apply_async = process_webhook_event.apply_async

    def broker_down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(process_webhook_event, "apply_async", broker_down)
    deliver(shop, "orders/create", payload("orders_create"))
    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.PENDING

    # When the sweeper runs before the grace period, nothing is sent
    monkeypatch.setattr(process_webhook_event, "apply_async", real_apply_async)
    assert webhook_events_sweep(now=event.available_at + timedelta(seconds=10)) == 0

    # When it runs after the grace period, with the broker back
    sent = webhook_events_sweep(now=event.available_at + timedelta(minutes=5))

    # Then the event is processed and the order stored
    event.refresh_from_db()
    assert sent == 1
    assert event.status == EventStatus.DONE
    assert Order.objects.for_shop(shop).count() == 1


def test_the_sweeper_frees_events_whose_worker_died(shop: Shop) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    event = stored_event(
        shop,
        body="not json",
        received_at=long_ago,
        available_at=long_ago,
        status=EventStatus.PROCESSING,
        claimed_at=long_ago,
        attempts=1,
    )

    webhook_events_sweep()

    event.refresh_from_db()
    # Freed, claimed again by the (eager) task, and failed for its own reason this time
    assert event.attempts == 2
    assert event.status == EventStatus.FAILED
    assert "not valid JSON" in event.last_error


def test_the_sweeper_leaves_done_failed_and_future_events_alone(shop: Shop) -> None:
    now = timezone.now()
    old = now - timedelta(hours=1)
    for index, (status, available_at) in enumerate(
        [
            (EventStatus.DONE, old),
            (EventStatus.FAILED, old),
            (EventStatus.PENDING, now + timedelta(minutes=5)),
        ]
    ):
        stored_event(shop, event_id=str(index), received_at=old, available_at=available_at, status=status)

    assert webhook_events_sweep(now=now) == 0


def test_replay_refuses_an_event_that_is_not_finished(shop: Shop) -> None:
    event = stored_event(shop, status=EventStatus.DONE)

    with pytest.raises(ReplayRefused):
        webhook_event_replay(shop, event.pk)


def test_replay_cannot_reach_another_shop_s_event(shop: Shop, other_shop: Shop) -> None:
    event = stored_event(shop, status=EventStatus.FAILED)

    with pytest.raises(WebhookEvent.DoesNotExist):
        webhook_event_replay(other_shop, event.pk)

    event.refresh_from_db()
    assert event.status == EventStatus.FAILED


def test_the_replay_command_runs_failed_events_again(
    shop: Shop, other_shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a failed orders/create whose body is fine now (it failed on something transient)
    for owner in (shop, other_shop):
        stored_event(
            owner,
            body=payload("orders_create"),
            status=EventStatus.FAILED,
            attempts=6,
            last_error="OperationalError",
        )

    # When the operator replays one shop's failures
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--shop", shop.domain)

    # Then that shop's event is done, and the other shop's is untouched
    assert WebhookEvent.objects.for_shop(shop).get().status == EventStatus.DONE
    assert WebhookEvent.objects.for_shop(other_shop).get().status == EventStatus.FAILED
    assert Order.objects.for_shop(shop).count() == 1
    assert not Order.objects.for_shop(other_shop).exists()


def test_a_malformed_value_in_a_payload_fails_at_once_naming_the_field(shop: Shop, deliver: Deliver) -> None:
    # Given an order whose line quantity is not a number
    body = payload("orders_create")
    body["line_items"][0]["quantity"] = "two"

    deliver(shop, "orders/create", body)

    # Then it failed on its first attempt, not after six retries, with the field named
    event = WebhookEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert event.attempts == 1
    assert event.last_error == "IngestError: line_items[0].quantity: not an integer"
    assert not Order.objects.exists()


SHOPPER_EMAIL = "jane@example.com"


@pytest.mark.parametrize(
    ("error", "recorded"),
    [
        (ValueError(SHOPPER_EMAIL), "ValueError"),
        (KeyError(SHOPPER_EMAIL), "KeyError"),
        (TypeError(f"{SHOPPER_EMAIL} is not a dict"), "TypeError"),
        # Our own PermanentError's messages name fields, never values: they are kept
        (IngestError("order.email: missing"), "IngestError: order.email: missing"),
    ],
    ids=["ValueError", "KeyError", "TypeError", "IngestError"],
)
def test_data_errors_no_parser_foresaw_fail_at_once_and_stay_replayable(
    shop: Shop,
    deliver: Deliver,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    error: Exception,
    recorded: str,
) -> None:
    # Given a handler that trips over the payload's data, with an error quoting a shopper's email
    calls: list[int] = []

    def tripping(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
        calls.append(event.attempts)
        raise error

    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", tripping)

    deliver(shop, "orders/create", payload("orders_create"))

    # Then it was tried once and failed with the error's type on record, and never the value
    event = WebhookEvent.objects.get()
    assert calls == [1]
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1)
    assert event.last_error == recorded
    assert SHOPPER_EMAIL not in event.last_error

    # And a replay, once the handler is fixed, processes it
    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", handlers.order_changed)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_replay(shop, event.pk)
    event.refresh_from_db()
    assert event.status == EventStatus.DONE


def test_an_event_processed_after_its_shop_uninstalled_is_ignored_and_replayable(
    shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # Given an order stored while the shop was installed, and the shop uninstalled before a worker got to it
    event = stored_event(shop, body=payload("orders_create"))
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())

    result = webhook_event_process(event.pk)

    # Then no work is done for the shop, and the event says why
    event.refresh_from_db()
    assert result.outcome.value == "ignored"
    assert (event.status, event.note) == (EventStatus.IGNORED, "shop not installed when processed")
    assert not Order.objects.exists()

    # When the shop comes back and the event is replayed, it is processed
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_replay(shop, event.pk)
    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    assert Order.objects.for_shop(shop).count() == 1


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "app/uninstalled"])
def test_privacy_topics_and_uninstall_are_processed_for_an_uninstalled_shop(shop: Shop, topic: str) -> None:
    event = stored_event(shop, topic=topic, body=payload(topic.replace("/", "_")))
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())

    webhook_event_process(event.pk)

    event.refresh_from_db()
    assert event.status == EventStatus.DONE


def test_the_sweeper_backs_off_an_event_still_waiting_in_a_backlog(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pending event that no worker takes (the queue is backlogged), and a broker that accepts
    start = timezone.now()
    event = stored_event(shop, available_at=start - timedelta(minutes=5))
    sent_at: list[int] = []
    monkeypatch.setattr("shop_app.work._publish", lambda task, pk: sent_at.append(minute))

    # When the sweeper runs every minute for ten hours
    for minute in range(600):
        webhook_events_sweep(now=start + timedelta(minutes=minute))

    # Then it was sent again after 2, 4, 8, 16, 32 minutes, then once an hour: not 300 times
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert gaps[:6] == [2, 4, 8, 16, 32, 60]
    assert set(gaps[5:]) == {60}
    assert len(sent_at) == 14
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING


def test_a_worker_taking_the_event_resets_the_sweeper_s_backoff(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event the sweeper has sent several times
    start = timezone.now()
    event = stored_event(shop, available_at=start - timedelta(hours=1), sweeps=5)
    monkeypatch.setattr("shop_app.work._publish", lambda task, pk: None)

    # When a worker finally claims it and it fails transiently
    def flaky(*args: Any) -> None:
        raise TimeoutError("slow")

    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", flaky)
    webhook_event_process(event.pk)

    # Then the sweeper starts again from the grace period
    event.refresh_from_db()
    assert event.sweeps == 0
    assert sweep_backoff(1, timedelta(minutes=2)) == timedelta(minutes=2)
    assert sweep_backoff(40, timedelta(minutes=2)) == timedelta(hours=1)


def test_a_value_the_database_refuses_fails_at_once_without_quoting_it(shop: Shop, deliver: Deliver) -> None:
    # Given an order whose name is longer than its column and whose shopper's name holds a NUL byte,
    # both of which PostgreSQL refuses (SQLite stores them)
    body = payload("orders_create")
    body["name"] = "#1001" + "9" * 100  # longer than Order.name's 64 characters on PostgreSQL
    body["customer"]["first_name"] = "Jo\x00hn"

    deliver(shop, "orders/create", body)

    # Then, on a database that refuses it, the event fails at once, naming no value
    event = WebhookEvent.objects.get()
    if connection.vendor == "postgresql":
        assert event.status == EventStatus.FAILED
        assert event.attempts == 1
        assert event.last_error == "DataError"
    else:
        assert event.status == EventStatus.DONE


def test_a_value_the_database_refuses_fails_at_once_on_any_database(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a handler whose write the database refuses with an error quoting the value (as
    # PostgreSQL's "value too long" does), whichever database the tests run on
    calls: list[int] = []

    def refused(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
        calls.append(event.attempts)
        raise DataError(f"value '{SHOPPER_EMAIL}' too long for type character varying(8)")

    monkeypatch.setitem(handlers.TOPIC_HANDLERS, "orders/create", refused)

    deliver(shop, "orders/create", payload("orders_create"))

    # Then it failed on its first attempt, recording the error's type and not the value
    event = WebhookEvent.objects.get()
    assert calls == [1]
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1)
    assert event.last_error == "DataError"
    assert SHOPPER_EMAIL not in event.last_error


def test_a_payload_nested_too_deep_fails_at_once(shop: Shop) -> None:
    # Given a body nested deeper than Python's parser goes
    event = stored_event(shop, body="[" * 100_000 + "]" * 100_000)

    webhook_event_process(event.pk)

    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert event.attempts == 1
