"""The 60-day order window: without read_all_orders an app sees only orders created in the last 60 days."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from devstore.config import AppToml
from devstore.context import Devstore
from devstore.db import Row
from devstore.formats import iso
from tests.devstore.conftest import API_KEY, API_SECRET, VERSION, GraphQL, Receiver

WITHOUT_ALL_ORDERS = AppToml(scopes="read_customers,read_orders,read_products", present=True)
WITH_ALL_ORDERS = AppToml(scopes="read_customers,read_orders,read_all_orders,read_products", present=True)

LIST = """query($old: ID!, $recent: ID!, $customer: ID!) {
  orders(first: 10) { nodes { name } }
  ordersCount { count }
  oldOrder: order(id: $old) { name }
  recentOrder: order(id: $recent) { name }
  oldNode: node(id: $old) { id }
  customer(id: $customer) { orders(first: 10) { nodes { name } } lastOrder { name } }
}"""
RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
    bulkOperation { id } userErrors { message } } }"""
CURRENT = "{ currentBulkOperation { status url } }"


@pytest.fixture
def placed(
    client: TestClient, ds: Devstore, customer: Row, variant_ids: list[int]
) -> dict[str, dict[str, Any]]:
    """Three orders of one customer: placed 400, 61 and 59 days ago (the last is also the newest)."""
    now = datetime.now(UTC)
    placed: dict[str, dict[str, Any]] = {}
    for label, days in (("ancient", 400), ("old", 61), ("recent", 59)):
        response = client.post(
            "/_devstore/orders",
            json={"customer_id": customer["id"], "lines": [{"variant_id": variant_ids[0], "quantity": 1}]},
        )
        assert response.status_code == 201, response.text
        order = response.json()["order"]
        stamp = iso(now - timedelta(days=days))
        ds.db.execute(
            "UPDATE orders SET created_at = ?, processed_at = ? WHERE id = ?", (stamp, stamp, order["id"])
        )
        placed[label] = order
    return placed


def _variables(placed: dict[str, dict[str, Any]], customer: Row) -> dict[str, str]:
    return {
        "old": f"gid://shopify/Order/{placed['old']['id']}",
        "recent": f"gid://shopify/Order/{placed['recent']['id']}",
        "customer": f"gid://shopify/Customer/{customer['id']}",
    }


def _bulk_names(client: TestClient, gql: GraphQL, access_token: str | None = None) -> list[str]:
    started = gql(RUN, {"q": "{ orders { edges { node { id name } } } }"}, access_token=access_token)
    assert started["data"]["bulkOperationRunQuery"]["userErrors"] == []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = gql(CURRENT, access_token=access_token)["data"]["currentBulkOperation"]
        if current["status"] == "COMPLETED":
            body = client.get(current["url"].replace("http://testserver", "")).text
            return [json.loads(line)["name"] for line in body.splitlines()]
        assert current["status"] in ("CREATED", "RUNNING"), current
        time.sleep(0.05)
    raise AssertionError("bulk operation did not finish")


@pytest.mark.parametrize("app_toml", [WITHOUT_ALL_ORDERS])
def test_without_read_all_orders_only_the_last_60_days_are_visible(
    client: TestClient, gql: GraphQL, customer: Row, placed: dict[str, dict[str, Any]], app_toml: AppToml
) -> None:
    data = gql(LIST, _variables(placed, customer))["data"]

    recent = placed["recent"]["name"]
    assert data["orders"]["nodes"] == [{"name": recent}]
    assert data["ordersCount"]["count"] == 1
    assert data["oldOrder"] is None
    assert data["recentOrder"] == {"name": recent}
    assert data["oldNode"] is None
    assert data["customer"]["orders"]["nodes"] == [{"name": recent}]
    assert data["customer"]["lastOrder"] == {"name": recent}
    assert _bulk_names(client, gql) == [recent]


@pytest.mark.parametrize("app_toml", [WITH_ALL_ORDERS])
def test_with_read_all_orders_every_order_is_visible(
    client: TestClient, gql: GraphQL, customer: Row, placed: dict[str, dict[str, Any]], app_toml: AppToml
) -> None:
    data = gql(LIST, _variables(placed, customer))["data"]

    names = [placed[label]["name"] for label in ("ancient", "old", "recent")]
    assert [n["name"] for n in data["orders"]["nodes"]] == names
    assert data["ordersCount"]["count"] == 3
    assert data["oldOrder"] == {"name": placed["old"]["name"]}
    assert data["oldNode"] is not None
    assert [n["name"] for n in data["customer"]["orders"]["nodes"]] == names
    assert _bulk_names(client, gql) == names


@pytest.mark.parametrize("app_toml", [WITH_ALL_ORDERS])
def test_the_granted_scopes_decide_not_the_toml(
    client: TestClient,
    receiver: Receiver,
    customer: Row,
    placed: dict[str, dict[str, Any]],
    app_toml: AppToml,
) -> None:
    # Given the merchant granted only read_orders through OAuth (the toml would ask for more)
    location = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_customers,read_orders",
            "state": "s",
            "auto": "1",
            "redirect_uri": receiver.url + "/auth/callback",
        },
        follow_redirects=False,
    ).headers["location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    granted = client.post(
        "/admin/oauth/access_token", json={"client_id": API_KEY, "client_secret": API_SECRET, "code": code}
    ).json()

    count = client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": "{ ordersCount { count } }"},
        headers={"X-Shopify-Access-Token": granted["access_token"]},
    ).json()

    assert count["data"]["ordersCount"]["count"] == 1
