"""End to end: devstore places orders and changes shoppers, signs and delivers webhooks to the
live app, and a real worker processes them; the admin API shows the events."""

import subprocess
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from commerce.models import Customer, Order, OrderLine, Refund
from privacy.models import PrivacyKind, PrivacyRequest
from shop_app.models import Shop
from tests.live import Devstore, install, wait_for
from webhooks.models import EventStatus, WebhookEvent

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_environment(devstore_worker_environment: dict[str, str]) -> dict[str, str]:
    return devstore_worker_environment


def events_settled(shop: Shop, count: int) -> Any:
    def settled() -> bool:
        """the app stored and finished every delivered event"""
        events = WebhookEvent.objects.for_shop(shop)
        return events.count() >= count and not events.filter(status__in=["pending", "processing"]).exists()

    return settled


def test_orders_placed_in_devstore_are_received_processed_and_shown(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    api_client_for: Callable[[Shop], Client],
) -> None:
    # Given an installed shop with a catalogue, and a shopper
    devstore.seed(customers=1, orders=0)
    shop = install(devstore)
    variant = devstore.control("GET", "/products")["products"][0]["variants"][0]
    shopper = devstore.control(
        "POST",
        "/customers",
        {
            "email": "hana@example.jp",
            "first_name": "Hana",
            "last_name": "Sato",
            "marketing_state": "SUBSCRIBED",
        },
    )["customer"]

    # When devstore places an order for her (delivered twice, as Shopify sometimes does)
    devstore.settings(webhooks={"duplicate": True})
    placed = devstore.control(
        "POST",
        "/orders",
        {"customer_id": shopper["id"], "lines": [{"variant_id": variant["id"], "quantity": 2}]},
    )["order"]
    devstore.settings(webhooks={"duplicate": False})

    # Then the app stores the order with its lines, money and shopper, once
    def order_stored() -> Order | None:
        """the order reached our tables"""
        return Order.objects.for_shop(shop).filter(shopify_id=placed["id"]).first()

    order = wait_for(order_stored, timeout=60, interval=0.2)
    assert order.total_price == Decimal(placed["total_price"])
    assert order.currency == placed["currency"]
    assert order.customer == Customer.objects.for_shop(shop).get(shopify_id=shopper["id"])
    [line] = OrderLine.objects.for_shop(shop).filter(order=order)
    assert (line.variant_id, line.quantity) == (variant["id"], 2)
    assert devstore.control("POST", "/webhooks/wait", {"timeout": 20})["pending"] == 0
    wait_for(events_settled(shop, 2), timeout=60)
    order_events = WebhookEvent.objects.for_shop(shop).filter(topic="orders/create")
    assert order_events.count() == 1, "a duplicate delivery is stored once"

    # When the order is fulfilled and then refunded, delivered newest first
    devstore.settings(webhooks={"out_of_order": 2})
    devstore.control("POST", f"/orders/{placed['id']}/fulfill")
    # Shopify's updated_at has one-second precision, and devstore's X-Shopify-Triggered-At too
    # (Shopify's own carries nanoseconds, which ingest uses to order two states of one second).
    time.sleep(1.1)
    refunded = devstore.control("POST", f"/orders/{placed['id']}/refund", {})
    devstore.settings(webhooks={"out_of_order": 0})
    assert devstore.control("POST", "/webhooks/wait", {"timeout": 20})["pending"] == 0

    # Then the app holds the newest state and the refund
    def refund_and_state() -> bool:
        """the refund is recorded and the order shows Shopify's latest state"""
        order.refresh_from_db()
        return Refund.objects.for_shop(shop).exists() and order.fulfillment_status == "fulfilled"

    wait_for(refund_and_state, timeout=60)
    wait_for(events_settled(shop, 4), timeout=60)
    order.refresh_from_db()
    assert order.financial_status == refunded["order"]["financial_status"]
    assert Refund.objects.for_shop(shop).get().amount == Decimal(
        refunded["refund"]["transactions"][0]["amount"]
    )

    # And the admin shows every event done and none failed
    api = api_client_for(shop)
    events = api.get("/api/webhook-events").json()["results"]
    assert {event["topic"] for event in events} >= {"customers/create", "orders/create", "refunds/create"}
    assert {event["status"] for event in events} == {"done"}
    assert api.get("/api/webhook-events?status=failed").json()["results"] == []


def test_privacy_topics_after_uninstall_are_accepted_and_carried_out(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str]
) -> None:
    # Given a shop whose shopper ordered, then the merchant uninstalled
    devstore.seed(customers=1, orders=0)
    shop = install(devstore)
    variant = devstore.control("GET", "/products")["products"][0]["variants"][0]
    shopper = devstore.control(
        "POST", "/customers", {"email": "ken@example.jp", "first_name": "Ken", "last_name": "Mori"}
    )["customer"]
    devstore.control(
        "POST", "/orders", {"customer_id": shopper["id"], "lines": [{"variant_id": variant["id"]}]}
    )
    devstore.control("POST", "/uninstall")
    devstore.control("POST", "/webhooks/wait", {"timeout": 20})

    def uninstalled() -> bool:
        """app/uninstalled was processed"""
        shop.refresh_from_db()
        return not shop.is_installed

    wait_for(uninstalled, timeout=60)

    # When Shopify sends the shopper's erasure, then the shop's
    devstore.control("POST", "/privacy", {"topic": "customers/redact", "customer_id": shopper["id"]})
    devstore.control("POST", "/webhooks/wait", {"timeout": 20})

    def shopper_erased() -> bool:
        """customers/redact was carried out"""
        return PrivacyRequest.objects.filter(shop=shop, kind=PrivacyKind.CUSTOMER_REDACT).exists()

    wait_for(shopper_erased, timeout=60)
    assert not Customer.objects.for_shop(shop).filter(email="ken@example.jp").exists()
    assert not WebhookEvent.objects.for_shop(shop).filter(body__contains="ken@example.jp").exists()
    assert WebhookEvent.objects.for_shop(shop).filter(status=EventStatus.FAILED).count() == 0

    devstore.control("POST", "/privacy", {"topic": "shop/redact"})
    devstore.control("POST", "/webhooks/wait", {"timeout": 20})

    def shop_erased() -> bool:
        """shop/redact was carried out"""
        return not Shop.objects.filter(domain=devstore.shop).exists()

    wait_for(shop_erased, timeout=60)
    assert not Order.objects.exists()
    record = PrivacyRequest.objects.get(kind=PrivacyKind.SHOP_REDACT)
    assert record.completed_at is not None
