"""Bulk query operations: status, object counts and Shopify's JSONL with __parentId."""

from __future__ import annotations

import json
import time

from starlette.testclient import TestClient

from tests.devstore.conftest import GraphQL

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
    bulkOperation { id status } userErrors { field message code } } }"""
CURRENT = "{ currentBulkOperation { id status objectCount rootObjectCount url errorCode } }"


def _finish(gql: GraphQL) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = gql(CURRENT)["data"]["currentBulkOperation"]
        if current["status"] in ("COMPLETED", "FAILED"):
            return current
        time.sleep(0.05)
    raise AssertionError("bulk operation did not finish")


def test_a_bulk_export_writes_one_line_per_node_and_children_after_parents(
    client: TestClient, gql: GraphQL, customer: dict, variant_ids: list[int]
) -> None:
    # Given two orders, one with two lines
    for lines in ([variant_ids[0], variant_ids[2]], [variant_ids[0]]):
        client.post(
            "/_devstore/orders",
            json={"customer_id": customer["id"], "lines": [{"variant_id": v, "quantity": 1} for v in lines]},
        )
    query = """{ orders { edges { node { id name customer { id }
        totalPriceSet { shopMoney { amount } }
        lineItems { edges { node { id quantity variant { id } } } } } } } }"""

    # When the app runs it as a bulk operation
    started = gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"]
    done = _finish(gql)

    # Then it completes with a JSONL file: orders, each followed by its line items
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    assert done["status"] == "COMPLETED"
    assert done["objectCount"] == "5"
    assert done["rootObjectCount"] == "2"
    body = client.get(done["url"].replace("http://testserver", "")).text
    lines = [json.loads(line) for line in body.splitlines()]
    orders = [line for line in lines if "__parentId" not in line]
    assert [o["name"] for o in orders] == ["#1001", "#1002"]
    assert set(orders[0]) == {"id", "name", "customer", "totalPriceSet"}
    assert orders[0]["customer"] == {"id": f"gid://shopify/Customer/{customer['id']}"}
    assert lines[1]["__parentId"] == lines[0]["id"]
    assert lines[2]["__parentId"] == lines[0]["id"]
    assert lines[4]["__parentId"] == lines[3]["id"]
    assert set(lines[1]) == {"id", "quantity", "variant", "__parentId"}


def test_a_second_bulk_query_while_one_runs_is_refused(gql: GraphQL, client: TestClient) -> None:
    client.app.state.ds.db.execute(  # type: ignore[attr-defined]
        "INSERT INTO bulk_operations (shop_id, query, status, created_at)"
        " VALUES (1, '{}', 'RUNNING', '2025-01-01T00:00:00Z')"
    )

    result = gql(RUN, {"q": "{ customers { edges { node { id } } } }"})

    errors = result["data"]["bulkOperationRunQuery"]["userErrors"]
    assert errors[0]["code"] == "OPERATION_IN_PROGRESS"


def test_a_bulk_query_without_a_connection_is_refused(gql: GraphQL) -> None:
    result = gql(RUN, {"q": "{ shop { id } }"})

    errors = result["data"]["bulkOperationRunQuery"]["userErrors"]
    assert errors
    assert errors[0]["field"] == ["query"]
