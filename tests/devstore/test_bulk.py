"""Bulk query operations: status, object counts and Shopify's JSONL with __parentId."""

from __future__ import annotations

import json
import time

from starlette.testclient import TestClient

from devstore.admin_api import bulk
from devstore.context import Devstore
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


def test_a_grouped_bulk_query_is_refused_rather_than_answered_ungrouped(gql: GraphQL) -> None:
    # When the app asks for grouped output
    result = gql(
        """mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) {
        bulkOperation { id } userErrors { field message code } } }""",
        {"q": "{ customers { edges { node { id } } } }"},
    )

    # Then devstore says it does not serve it, and starts nothing
    assert result["data"]["bulkOperationRunQuery"] == {
        "bulkOperation": None,
        "userErrors": [
            {
                "field": ["groupObjects"],
                "message": "Grouped output (groupObjects: true) is not supported by devstore;"
                " without it, results are ungrouped JSONL with __parentId.",
                "code": "INVALID",
            }
        ],
    }
    assert gql(CURRENT)["data"]["currentBulkOperation"] is None


def _jsonl(client: TestClient, gql: GraphQL, query: str) -> tuple[dict, list[dict]]:
    started = gql(RUN, {"q": query})["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == []
    done = _finish(gql)
    assert done["status"] == "COMPLETED", done
    body = client.get(done["url"].replace("http://testserver", "")).text
    return done, [json.loads(line) for line in body.splitlines()]


def test_a_bulk_product_export_puts_variants_and_collections_under_their_product(
    client: TestClient, gql: GraphQL, ds: Devstore, product: dict, variant_ids: list[int]
) -> None:
    # Given a product unchanged since 2024, the shirt in a collection, and a second product
    old = client.post("/_devstore/products", json={"title": "Old Scarf"}).json()["product"]
    ds.db.execute("UPDATE products SET updated_at = '2024-06-01T00:00:00Z' WHERE id = ?", (old["id"],))
    hat = client.post(
        "/_devstore/products",
        json={"title": "Wool Beanie", "variants": [{"price": "20", "inventory_quantity": 4}]},
    ).json()["product"]
    collection = client.post(
        "/_devstore/collections", json={"title": "Linen", "product_ids": [product["id"]]}
    )
    collection_gid = f"gid://shopify/Collection/{collection.json()['collection']['id']}"
    query = """{ products(query: "updated_at:>'2025-01-01T00:00:00Z'") { edges { node {
        id handle status tags
        variants { edges { node { id sku price inventoryQuantity
                                  selectedOptions { name value } inventoryItem { id } } } }
        collections { edges { node { id } } } } } } }"""

    # When the app exports what changed since 2025 in bulk
    done, lines = _jsonl(client, gql, query)

    # Then each changed product is a line, followed by its variants' and its collections' lines
    shirt_gid, hat_gid = f"gid://shopify/Product/{product['id']}", f"gid://shopify/Product/{hat['id']}"
    assert [line["id"] for line in lines] == [
        shirt_gid,
        *[f"gid://shopify/ProductVariant/{v}" for v in variant_ids],
        collection_gid,
        hat_gid,
        f"gid://shopify/ProductVariant/{hat['variants'][0]['id']}",
    ]
    assert (done["objectCount"], done["rootObjectCount"]) == ("7", "2")
    assert lines[0] == {"id": shirt_gid, "handle": "linen-camp-shirt", "status": "ACTIVE", "tags": ["linen"]}
    assert lines[1] == {
        "id": f"gid://shopify/ProductVariant/{variant_ids[0]}",
        "sku": "LCS-S",
        "price": "60.00",
        "inventoryQuantity": 5,
        "selectedOptions": [{"name": "Size", "value": "S"}, {"name": "Color", "value": "Sand"}],
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{variant_ids[0]}"},
        "__parentId": shirt_gid,
    }
    assert lines[4] == {"id": collection_gid, "__parentId": shirt_gid}
    assert lines[6]["__parentId"] == hat_gid


def test_a_bulk_collection_export_lists_each_collections_products_under_it(
    client: TestClient, gql: GraphQL, product: dict
) -> None:
    hat = client.post("/_devstore/products", json={"title": "Wool Beanie", "status": "draft"}).json()[
        "product"
    ]
    for title, members in (
        ("Linen", [product["id"]]),
        ("Everything", [hat["id"], product["id"]]),
        ("Empty", []),
    ):
        client.post("/_devstore/collections", json={"title": title, "product_ids": members})

    _, lines = _jsonl(
        client,
        gql,
        "{ collections { edges { node { id handle sortOrder products { edges { node { id } } } } } } }",
    )

    collections = {line["id"]: line for line in lines if "__parentId" not in line}
    assert [c["handle"] for c in collections.values()] == ["linen", "everything", "empty"]
    members: dict[str, list[str]] = {gid: [] for gid in collections}
    for line in lines:
        if "__parentId" in line:
            members[line["__parentId"]].append(line["id"])
    shirt_gid, hat_gid = f"gid://shopify/Product/{product['id']}", f"gid://shopify/Product/{hat['id']}"
    assert list(members.values()) == [[shirt_gid], [hat_gid, shirt_gid], []]


def test_an_operation_a_stopped_devstore_left_running_completes_after_a_restart(
    ds: Devstore, gql: GraphQL, customer: dict
) -> None:
    # Given an operation recorded as running by a devstore that stopped before it finished
    shop_id = ds.db.one("SELECT id FROM shops WHERE domain = ?", (ds.config.default_shop,))["id"]
    ds.db.insert(
        "bulk_operations",
        {
            "shop_id": shop_id,
            "query": "{ customers { edges { node { id } } } }",
            "status": "RUNNING",
            "created_at": "2026-01-01T00:00:00Z",
        },
    )

    # When devstore starts again
    resumed = bulk.bulk_operations_resume(ds)

    # Then the operation finishes, as Shopify's do, rather than leaving the app polling for ever
    assert resumed == 1
    finished = _finish(gql)
    assert finished["status"] == "COMPLETED"
    assert int(finished["rootObjectCount"]) >= 1
