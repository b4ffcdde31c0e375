import time
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from commerce.models import Order
from config.celery import app as celery_app
from shop_app import work
from shop_app.models import Shop
from tests.webhooks.conftest import Deliver, payload, sign, webhook_headers
from webhooks import intake, processing
from webhooks.models import EventStatus, WebhookEvent
from webhooks.tasks import process_webhook_event
from webhooks.verify import webhook_signature_is_valid


def test_a_signed_order_is_stored_acknowledged_and_processed(shop: Shop, deliver: Deliver) -> None:
    # Given Shopify's own sample orders/create payload
    body = payload("orders_create")

    # When Shopify delivers it
    response = deliver(
        shop,
        "orders/create",
        body,
        event_id="evt-1",
        headers={"X-Shopify-Triggered-At": "2026-01-05T10:00:00.123456789Z"},
    )

    # Then it is acknowledged, stored with Shopify's headers, and processed
    assert response.status_code == 200
    event = WebhookEvent.objects.for_shop(shop).get()
    assert event.topic == "orders/create"
    assert event.event_id == "evt-1"
    assert event.api_version == "2026-10"
    assert event.webhook_id
    assert event.triggered_at is not None
    assert event.triggered_at.microsecond == 123456
    assert event.received_at is not None
    assert event.status == EventStatus.DONE
    assert event.attempts == 1


@pytest.mark.parametrize(
    "topic",
    [
        "orders/create",
        "customers/update",
        "customers/redact",
        "shop/redact",
        "app/uninstalled",
        "customers/data_request",
    ],
)
def test_a_bad_hmac_is_refused_and_nothing_is_stored(shop: Shop, deliver: Deliver, topic: str) -> None:
    response = deliver(shop, topic, payload("orders_create"), secret="not-the-secret")

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_missing_hmac_is_refused(shop: Shop, client: Client) -> None:
    raw = b'{"id": 1}'
    headers = webhook_headers(shop.domain, "orders/create", raw)
    del headers["X-Shopify-Hmac-Sha256"]

    response = client.post("/webhooks/", data=raw, content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(shop: Shop, client: Client) -> None:
    raw = b'{"id": 1, "total_price": "10.00"}'
    headers = webhook_headers(shop.domain, "orders/create", raw)

    response = client.post(
        "/webhooks/", data=raw.replace(b"10.00", b"0.01"), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


@override_settings(SHOPIFY_API_SECRET="new-secret", SHOPIFY_API_SECRET_PREVIOUS="old-secret")
def test_during_a_rotation_both_secrets_are_accepted(shop: Shop, deliver: Deliver) -> None:
    assert deliver(shop, "orders/create", payload("orders_create"), secret="new-secret").status_code == 200
    assert deliver(shop, "orders/create", payload("orders_create"), secret="old-secret").status_code == 200
    assert (
        deliver(shop, "orders/create", payload("orders_create"), secret="omakase-dev-secret").status_code
        == 401
    )
    assert WebhookEvent.objects.count() == 2


@override_settings(WEBHOOK_MAX_BODY_BYTES=1000)
def test_a_body_past_the_cap_is_refused_before_anything_else(shop: Shop, deliver: Deliver) -> None:
    big = {"id": 1, "note": "x" * 2000}

    response = deliver(shop, "orders/create", big)

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_duplicate_delivery_is_stored_once_processed_once_and_acknowledged(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a delivery already received
    runs: list[int] = []
    real_claim = processing.webhook_event_claim

    def counting_claim(event_pk: int) -> Any:
        claimed = real_claim(event_pk)
        if claimed is not None:
            runs.append(event_pk)
        return claimed

    monkeypatch.setattr(processing, "webhook_event_claim", counting_claim)
    first = deliver(shop, "orders/create", payload("orders_create"), event_id="same-event")

    # When Shopify delivers the same event again
    second = deliver(shop, "orders/create", payload("orders_create"), event_id="same-event")

    # Then both are acknowledged, one row exists and it was processed once
    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert len(runs) == 1
    assert WebhookEvent.objects.get().attempts == 1


def _insert_executions() -> list[int]:
    """How many times each prepared statement that stores a webhook event ran, on this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"INSERT INTO {WebhookEvent._meta.db_table} %"],
        )
        return [executions for (executions,) in cursor.fetchall()]


def test_intake_parses_and_plans_its_insert_once_per_connection(shop: Shop, deliver: Deliver) -> None:
    # Given a connection that may have stored webhooks before
    before = sum(_insert_executions())

    # When Shopify delivers three orders
    answers = [
        deliver(shop, "orders/create", {**payload("orders_create"), "id": 3000 + n}, event_id=f"prepared-{n}")
        for n in range(3)
    ]

    # Then each is stored by executing one statement the database prepared once (parsing and
    # planning it again was half of what it spent on each webhook)
    assert [answer.status_code for answer in answers] == [200] * 3
    assert WebhookEvent.objects.for_shop(shop).count() == 3
    assert len(_insert_executions()) == 1
    assert sum(_insert_executions()) - before == 3


def test_the_same_event_id_in_two_shops_is_two_events(shop: Shop, other_shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"), event_id="evt")
    deliver(other_shop, "orders/create", payload("orders_create"), event_id="evt")

    assert WebhookEvent.objects.for_shop(shop).count() == 1
    assert WebhookEvent.objects.for_shop(other_shop).count() == 1


def test_a_shop_domain_that_is_not_myshopify_is_refused(deliver: Deliver, db: None) -> None:
    response = deliver("evil.example.com", "orders/create", payload("orders_create"))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_order_for_an_unknown_shop_is_refused_so_shopify_retries(deliver: Deliver, db: None) -> None:
    response = deliver("not-installed-yet.myshopify.com", "orders/create", payload("orders_create"))

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact", "shop/redact"])
def test_a_privacy_topic_for_an_unknown_shop_is_acknowledged(deliver: Deliver, db: None, topic: str) -> None:
    response = deliver("long-gone.myshopify.com", topic, payload("shop_redact"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_shop_acknowledged"
    assert not WebhookEvent.objects.exists()


def test_an_uninstalled_shop_s_order_is_recorded_but_not_worked(shop: Shop, deliver: Deliver) -> None:
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=shop.installed_at)

    response = deliver(shop, "orders/updated", payload("orders_create"))

    assert response.status_code == 200
    event = WebhookEvent.objects.for_shop(shop).get()
    assert event.status == EventStatus.IGNORED
    assert event.note == "shop not installed when received"
    assert not Order.objects.exists()


def test_an_uninstalled_shop_s_privacy_topic_is_stored_and_processed(shop: Shop, deliver: Deliver) -> None:
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=shop.installed_at)

    response = deliver(shop, "customers/data_request", payload("customers_data_request"))

    assert response.status_code == 200
    assert WebhookEvent.objects.for_shop(shop).get().status == EventStatus.DONE


def test_when_the_database_is_down_shopify_gets_503_to_retry(
    shop: Shop, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("webhooks.views.webhook_event_store", database_down)
    raw = b'{"id": 1}'

    response = client.post(
        "/webhooks/",
        data=raw,
        content_type="application/json",
        headers=webhook_headers(shop.domain, "orders/create", raw),
    )

    assert response.status_code == 503


def test_when_the_broker_is_down_the_event_is_still_stored_and_acknowledged(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a broker that refuses every message
    def broker_down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(process_webhook_event, "apply_async", broker_down)

    # When Shopify delivers an order
    response = deliver(shop, "orders/create", payload("orders_create"))

    # Then Shopify has its 200 and the event waits, pending, for the sweeper
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == EventStatus.PENDING


def test_the_dedup_key_falls_back_to_the_webhook_id_then_the_body() -> None:
    assert intake.delivery_event_id("e1", "w1", "orders/create", b"{}") == "e1"
    assert intake.delivery_event_id("", "w1", "orders/create", b"{}") == "webhook:w1"
    by_body = intake.delivery_event_id("", "", "orders/create", b"{}")
    assert by_body.startswith("sha256:")
    assert by_body == intake.delivery_event_id("", "", "orders/create", b"{}")
    assert by_body != intake.delivery_event_id("", "", "orders/create", b"{ }")


def test_signature_helper_matches_the_raw_bytes() -> None:
    assert webhook_signature_is_valid(b"abc", sign(b"abc"))
    assert not webhook_signature_is_valid(b"abc", sign(b"abd"))
    assert not webhook_signature_is_valid(b"abc", "not base64 !!")
    assert not webhook_signature_is_valid(b"abc", "")


@pytest.mark.parametrize(
    ("header", "length"),
    [
        ("X-Shopify-Topic", 129),
        ("X-Shopify-Event-Id", 256),
        ("X-Shopify-Webhook-Id", 256),
        ("X-Shopify-API-Version", 33),
    ],
)
def test_a_header_longer_than_its_column_is_refused_with_400_and_nothing_stored(
    shop: Shop, deliver: Deliver, header: str, length: int
) -> None:
    response = deliver(shop, "orders/create", payload("orders_create"), headers={header: "x" * length})

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_webhooks_are_answered_at_once_while_the_broker_is_unreachable(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a broker nobody answers at (a closed port), and tasks sent through it, as in production
    publishes: list[int] = []
    real_publish = work._publish

    def counted_publish(task: Any, pk: int, countdown: float = 0) -> None:
        publishes.append(pk)
        real_publish(task, pk, countdown)

    monkeypatch.setattr(work, "_publish", counted_publish)
    # Celery reads the broker's address from the environment before its own configuration
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(celery_app, "_pool", None)
    assert celery_app.conf.broker_write_url == "redis://127.0.0.1:9/0"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        # When Shopify delivers five orders
        answers = [
            deliver(
                shop, "orders/create", {**payload("orders_create"), "id": 1000 + n}, event_id=f"outage-{n}"
            )
            for n in range(5)
        ]
    finally:
        celery_app.conf.task_always_eager = eager

    # Then each is stored and acknowledged without waiting on the broker: the wake-ups are
    # published by another thread, which tried once (kombu's own connect retries took six seconds
    # for each request before) and left the rest, the broker being marked down
    assert [answer.status_code for answer in answers] == [200] * 5
    work.work_wake_ups_flush()
    assert len(publishes) == 1
    assert work._broker_down_until > time.monotonic()
    # And every one waits, pending, for the sweeper
    assert WebhookEvent.objects.filter(status=EventStatus.PENDING).count() == 5
