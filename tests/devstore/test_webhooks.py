"""Webhooks out: topics per change, Shopify's headers and HMAC, retries, test switches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from devstore.config import AppToml, DevstoreConfig, TomlSubscription, app_toml_load
from devstore.context import Devstore
from devstore.db import Row
from devstore.webhooks import destinations
from tests.devstore.conftest import API_SECRET, SHOP, VERSION, GraphQL, Receiver


def _place(client: TestClient, customer: Row, variant_id: int) -> dict:
    response = client.post(
        "/_devstore/orders",
        json={"customer_id": customer["id"], "lines": [{"variant_id": variant_id, "quantity": 1}]},
    )
    assert response.status_code == 201, response.text
    return response.json()["order"]


def test_an_order_is_announced_signed_with_shopifys_headers(
    client: TestClient, receiver: Receiver, customer: Row, variant_ids: list[int]
) -> None:
    # When a shopper checks out
    order = _place(client, customer, variant_ids[0])

    # Then the app hears customers/update, orders/create, orders/paid, inventory_levels/update
    requests = receiver.wait_for(4)
    assert sorted(receiver.topics()) == [
        "customers/update",
        "inventory_levels/update",
        "orders/create",
        "orders/paid",
    ]
    created = next(r for r in requests if r.headers["X-Shopify-Topic"] == "orders/create")
    assert created.path == "/webhooks/"
    expected = base64.b64encode(hmac.new(API_SECRET.encode(), created.body, hashlib.sha256).digest()).decode()
    assert created.headers["X-Shopify-Hmac-Sha256"] == expected
    assert created.headers["X-Shopify-Shop-Domain"] == SHOP
    assert created.headers["X-Shopify-API-Version"] == VERSION
    assert created.headers["Content-Type"] == "application/json"
    for header in ("X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"):
        assert created.headers[header]
    payload = created.json()
    assert payload["id"] == order["id"]
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    assert payload["financial_status"] == "paid"
    assert payload["fulfillment_status"] is None
    assert payload["total_price_set"]["shop_money"] == {"amount": "65.00", "currency_code": "USD"}
    assert payload["customer"]["id"] == customer["id"]
    line = payload["line_items"][0]
    assert {k: line[k] for k in ("variant_id", "quantity", "price", "sku", "variant_title")} == {
        "variant_id": variant_ids[0],
        "quantity": 1,
        "price": "60.00",
        "sku": "LCS-S",
        "variant_title": "S / Sand",
    }


def test_each_change_fires_its_topic(
    client: TestClient, receiver: Receiver, ds: Devstore, customer: Row, variant_ids: list[int]
) -> None:
    order = _place(client, customer, variant_ids[0])
    receiver.wait_for(4)
    client.post(f"/_devstore/orders/{order['id']}/fulfill")
    client.post(f"/_devstore/orders/{order['id']}/refund", json={})
    client.post(f"/_devstore/customers/{customer['id']}/consent", json={"state": "subscribed"})
    client.post("/_devstore/inventory", json={"variant_id": variant_ids[1], "available": 9})
    client.post("/_devstore/privacy", json={"topic": "customers/redact", "customer_id": customer["id"]})
    client.delete(f"/_devstore/customers/{customer['id']}")

    client.post("/_devstore/webhooks/wait", json={"timeout": 5})

    topics = receiver.topics()[4:]
    for topic in (
        "orders/fulfilled",
        "orders/updated",
        "refunds/create",
        "customers_email_marketing_consent/update",
        "inventory_levels/update",
        "customers/redact",
        "customers/delete",
    ):
        assert topic in topics
    refund = next(r for r in receiver.requests if r.headers["X-Shopify-Topic"] == "refunds/create")
    assert refund.json()["refund_line_items"][0]["quantity"] == 1


def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(
    client: TestClient, receiver: Receiver, ds: Devstore
) -> None:
    receiver.statuses = [500, 502]  # then 200
    client.post("/_devstore/customers", json={"email": "new@example.com"})

    requests = receiver.wait_for(3)

    assert len({r.headers["X-Shopify-Webhook-Id"] for r in requests}) == 1
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})
    delivery = client.get("/_devstore/webhooks/deliveries").json()["deliveries"][0]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 502, 200]


def test_a_delivery_gives_up_after_the_last_retry(
    client: TestClient, receiver: Receiver, ds: Devstore
) -> None:
    client.post("/_devstore/settings", json={"webhooks": {"max_retries": 2}})
    receiver.statuses = [500] * 10
    client.post("/_devstore/customers", json={"email": "new@example.com"})

    client.post("/_devstore/webhooks/wait", json={"timeout": 5})

    delivery = client.get("/_devstore/webhooks/deliveries", params={"status": "failed"}).json()["deliveries"][
        0
    ]
    assert delivery["attempts"] == 3
    assert delivery["last_error"] == "HTTP 500"


def test_duplicate_mode_sends_the_same_event_twice(
    client: TestClient, receiver: Receiver, ds: Devstore
) -> None:
    client.post("/_devstore/settings", json={"webhooks": {"duplicate": True}})
    client.post("/_devstore/customers", json={"email": "new@example.com"})

    first, second = receiver.wait_for(2)

    assert first.body == second.body
    assert first.headers["X-Shopify-Event-Id"] == second.headers["X-Shopify-Event-Id"]


def test_out_of_order_mode_sends_the_newest_first(
    client: TestClient, receiver: Receiver, ds: Devstore, customer: Row
) -> None:
    client.post("/_devstore/settings", json={"webhooks": {"out_of_order": 3}})
    for name in ("One", "Two", "Three"):
        client.post(f"/_devstore/customers/{customer['id']}", json={"first_name": name})

    requests = receiver.wait_for(3)

    assert [r.json()["first_name"] for r in requests] == ["Three", "Two", "One"]


def test_late_mode_delays_delivery(client: TestClient, receiver: Receiver, ds: Devstore) -> None:
    client.post("/_devstore/settings", json={"webhooks": {"delay_seconds": 0.6}})
    client.post("/_devstore/customers", json={"email": "late@example.com"})

    with pytest.raises(AssertionError):
        receiver.wait_for(1, timeout=0.3)
    assert receiver.wait_for(1, timeout=3)


def test_an_uninstalled_app_hears_nothing_more(client: TestClient, receiver: Receiver, ds: Devstore) -> None:
    client.post("/_devstore/uninstall", json={})
    client.post("/_devstore/customers", json={"email": "after@example.com"})

    client.post("/_devstore/webhooks/wait", json={"timeout": 5})

    assert receiver.topics() == ["app/uninstalled"]


def test_toml_subscriptions_and_compliance_uri_decide_the_destination(tmp_path: Path) -> None:
    toml = tmp_path / "shopify.app.toml"
    toml.write_text("""
application_url = "https://omakase.example.com/"
[webhooks]
api_version = "2026-10"
  [[webhooks.subscriptions]]
  topics = ["orders/create"]
  uri = "/webhooks/"
  [[webhooks.subscriptions]]
  compliance_topics = ["customers/data_request", "customers/redact", "shop/redact"]
  uri = "https://omakase.example.com/webhooks/compliance"
[app_proxy]
url = "https://omakase.example.com/proxy"
subpath = "omakase"
prefix = "apps"
""")
    parsed = app_toml_load(toml)
    config = DevstoreConfig(
        db_path=str(tmp_path / "d.sqlite3"), app_url="http://127.0.0.1:9", app_toml=parsed
    )
    store = Devstore.open(config)

    assert destinations(store.db, config, 1, "orders/create") == ["http://127.0.0.1:9/webhooks/"]
    assert destinations(store.db, config, 1, "customers/create") == []
    assert destinations(store.db, config, 1, "shop/redact") == ["http://127.0.0.1:9/webhooks/compliance"]
    assert config.proxy_target() == "http://127.0.0.1:9/proxy"
    assert AppToml().present is False


ORDERS_CREATE_TOML = AppToml(
    application_url="https://omakase.example.com/",
    subscriptions=(TomlSubscription(topics=("orders/create",), uri="/webhooks/"),),
    present=True,
)
SUBSCRIBE = """mutation($uri: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE,
    webhookSubscription: { uri: $uri }) { webhookSubscription { id } userErrors { message } } }"""


@pytest.mark.parametrize("app_toml", [ORDERS_CREATE_TOML])
def test_a_toml_and_an_api_subscription_to_the_same_uri_each_get_a_delivery(
    client: TestClient,
    receiver: Receiver,
    gql: GraphQL,
    customer: Row,
    variant_ids: list[int],
    app_toml: AppToml,
) -> None:
    # Given the toml subscribes orders/create to /webhooks/, the API lists nothing (shop-scoped only)
    listed = gql("{ webhookSubscriptions(first: 10) { nodes { topic uri } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == []

    # And the app also subscribes the same topic and uri through the API
    created = gql(SUBSCRIBE, {"uri": receiver.url + "/webhooks/"})["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == []
    listed = gql("{ webhookSubscriptions(first: 10) { nodes { topic uri } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {"topic": "ORDERS_CREATE", "uri": receiver.url + "/webhooks/"}
    ]

    # When an order is placed
    _place(client, customer, variant_ids[0])
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})

    # Then orders/create arrives once per subscription: two webhooks of one event
    deliveries = [r for r in receiver.requests if r.headers["X-Shopify-Topic"] == "orders/create"]
    assert len(deliveries) == 2
    assert {r.path for r in deliveries} == {"/webhooks/"}
    assert len({r.headers["X-Shopify-Webhook-Id"] for r in deliveries}) == 2
    assert len({r.headers["X-Shopify-Event-Id"] for r in deliveries}) == 1


def test_destinations_are_one_per_subscription_without_merging_by_uri(ds: Devstore, shop: Row) -> None:
    config = DevstoreConfig(app_url="http://127.0.0.1:9", app_toml=ORDERS_CREATE_TOML)
    ds.db.execute(
        "INSERT INTO webhook_subscriptions (shop_id, topic, uri, created_at, updated_at)"
        " VALUES (?, 'orders/create', 'http://127.0.0.1:9/webhooks/', '2026-01-01T00:00:00Z',"
        " '2026-01-01T00:00:00Z')",
        (shop["id"],),
    )

    assert destinations(ds.db, config, shop["id"], "orders/create") == [
        "http://127.0.0.1:9/webhooks/",
        "http://127.0.0.1:9/webhooks/",
    ]


def test_triggered_at_has_nanosecond_precision(client: TestClient, receiver: Receiver) -> None:
    before = datetime.now(UTC)
    client.post("/_devstore/customers", json={"email": "stamp@example.com"})

    stamp = receiver.wait_for(1)[0].headers["X-Shopify-Triggered-At"]

    # Shopify's spelling: 2023-03-15T15:26:55.186283283Z
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", stamp), stamp
    when = datetime.strptime(stamp[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= when <= datetime.now(UTC)
