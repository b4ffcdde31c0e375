import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from commerce.backfill import (
    BULK_QUERIES,
    BackfillFailed,
    backfill_advance,
    backfill_import_lines,
    jsonl_objects,
)
from commerce.ingest import collection_record_from_graphql, product_record_from_graphql
from commerce.models import Backfill, Collection, CollectionMembership, Customer, Product, Variant
from commerce.reconcile import COLLECTION_READ, PRODUCT_READ, node_read
from shop_app.models import Shop
from tests.commerce.catalog_nodes import PRODUCT_GID, collection_node, product_node, variant_node
from tests.commerce.fake_shopify import FakeShopify


def lines(*objects: dict[str, object]) -> list[str]:
    return [json.dumps(obj) for obj in objects]


def test_children_are_gathered_under_their_parent_in_order() -> None:
    given = lines(
        {"id": "gid://shopify/Order/1", "name": "#1001"},
        {"id": "gid://shopify/LineItem/11", "quantity": 2, "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/12", "quantity": 1, "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/Order/2", "name": "#1002"},
        {"id": "gid://shopify/Order/3", "name": "#1003"},
        {"id": "gid://shopify/LineItem/31", "quantity": 5, "__parentId": "gid://shopify/Order/3"},
    )

    objects = list(jsonl_objects(given))

    assert [(line, obj["name"]) for line, obj in objects] == [(3, "#1001"), (4, "#1002"), (6, "#1003")]
    first = objects[0][1]
    assert [edge["node"]["id"] for edge in first["lineItems"]["edges"]] == [
        "gid://shopify/LineItem/11",
        "gid://shopify/LineItem/12",
    ]
    assert "__parentId" not in first["lineItems"]["edges"][0]["node"]
    assert "lineItems" not in objects[1][1]


def test_blank_lines_are_ignored_and_an_empty_file_yields_nothing() -> None:
    assert list(jsonl_objects(["", "  "])) == []


def test_an_orphan_child_is_an_error_not_a_silent_drop() -> None:
    given = lines(
        {"id": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/9", "__parentId": "gid://shopify/Order/7"},
    )

    with pytest.raises(BackfillFailed, match="does not follow its parent"):
        list(jsonl_objects(given))


def test_an_import_step_stops_at_its_limit_and_the_next_resumes_where_it_stopped(shop: Shop) -> None:
    file = lines(
        *(
            {
                "id": f"gid://shopify/Customer/{n}",
                "email": f"c{n}@example.com",
                "updatedAt": "2026-01-01T00:00:00Z",
            }
            for n in range(1, 8)
        )
    )
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)

    finished_first = backfill_import_lines(backfill, file, limit=3)
    finished_second = backfill_import_lines(backfill, file, limit=3)
    finished_third = backfill_import_lines(backfill, file, limit=3)

    assert (finished_first, finished_second, finished_third) == (False, False, True)
    assert backfill.customers_imported == 7
    assert backfill.lines_processed == 7
    assert Customer.objects.for_shop(shop).count() == 7


def test_reimporting_a_finished_file_adds_nothing(shop: Shop) -> None:
    file = lines(
        {"id": "gid://shopify/Customer/1", "email": "c1@example.com", "updatedAt": "2026-01-01T00:00:00Z"}
    )
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)
    backfill_import_lines(backfill, file)

    assert backfill_import_lines(backfill, file) is True
    assert backfill.customers_imported == 1
    assert Customer.objects.for_shop(shop).count() == 1


def bulk_lines(node: dict[str, object], children: str) -> list[dict[str, object]]:
    """A node as Shopify's bulk JSONL writes it: the node without its `children` connection, then
    each child on its own line with `__parentId`."""
    connection = node.pop(children)
    assert isinstance(connection, dict)
    return [node, *({**child, "__parentId": node["id"]} for child in connection["nodes"])]


def test_a_products_file_brings_products_with_their_variants_and_counts_them(shop: Shop) -> None:
    second = product_node(
        id="gid://shopify/Product/6002", handle="linen-shirt", variants=[variant_node(3, "L")]
    )
    file = lines(*bulk_lines(product_node(), "variants"), *bulk_lines(second, "variants"))
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.PRODUCTS
    )

    assert backfill_import_lines(backfill, file) is True

    assert backfill.products_imported == 2
    assert backfill.lines_processed == 5
    assert sorted(Product.objects.for_shop(shop).values_list("handle", flat=True)) == [
        "linen-shirt",
        "merino-crew",
    ]
    variants = Variant.objects.for_shop(shop).order_by("shopify_id")
    assert [(v.product.shopify_id, v.shopify_id, v.options["Size"]) for v in variants] == [
        (6001, 8001, "S"),
        (6001, 8002, "M"),
        (6002, 8003, "L"),
    ]
    assert variants[0].currency == shop.currency


def test_a_collections_file_brings_collections_with_their_products(shop: Shop) -> None:
    file = lines(
        *bulk_lines(collection_node(product_ids=(6001, 6002)), "products"),
        *bulk_lines(
            collection_node(id="gid://shopify/Collection/7002", handle="empty", product_ids=()), "products"
        ),
    )
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.COLLECTIONS
    )

    backfill_import_lines(backfill, file)

    assert backfill.collections_imported == 2
    winter = Collection.objects.for_shop(shop).get(handle="winter")
    assert sorted(
        CollectionMembership.objects.for_shop(shop)
        .filter(collection=winter)
        .values_list("product_shopify_id", flat=True)
    ) == [6001, 6002]
    empty = Collection.objects.for_shop(shop).get(handle="empty")
    assert not CollectionMembership.objects.for_shop(shop).filter(collection=empty).exists()


def test_the_catalog_is_read_by_the_bulk_query_and_by_reconciliation_alike() -> None:
    shopify = FakeShopify(products=[product_node()], collections=[collection_node()])

    bulk_product = shopify.graphql(BULK_QUERIES[Backfill.Phase.PRODUCTS])["products"]["edges"][0]["node"]
    read_product = node_read(shopify, PRODUCT_READ, PRODUCT_GID)
    bulk_collection = shopify.graphql(BULK_QUERIES[Backfill.Phase.COLLECTIONS])["collections"]["edges"][0][
        "node"
    ]
    read_collection = node_read(shopify, COLLECTION_READ, "gid://shopify/Collection/7001")

    assert read_product is not None
    assert read_collection is not None
    record = product_record_from_graphql(product_node(), "USD")
    assert product_record_from_graphql(bulk_product, "USD") == record
    assert product_record_from_graphql(read_product, "USD") == record
    assert collection_record_from_graphql(bulk_collection) == collection_record_from_graphql(read_collection)


class FakeBulkClient:
    """Answers the backfill's two operations: every bulk query completes at once with no file."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "bulkOperationRunQuery" in query:
            assert variables is not None
            self.queries.append(variables["query"])
            return {
                "bulkOperationRunQuery": {
                    "bulkOperation": {
                        "id": f"gid://shopify/BulkOperation/{len(self.queries)}",
                        "status": "CREATED",
                    },
                    "userErrors": [],
                }
            }
        return {
            "currentBulkOperation": {
                "id": f"gid://shopify/BulkOperation/{len(self.queries)}",
                "status": "COMPLETED",
                "errorCode": None,
                "objectCount": "0",
                "url": None,
            }
        }


def test_the_backfill_imports_customers_orders_products_then_collections(shop: Shop) -> None:
    backfill = Backfill.objects.create(shop=shop)
    client = FakeBulkClient()

    while backfill_advance(backfill, client) is not None:  # type: ignore[arg-type]
        pass

    backfill.refresh_from_db()
    assert backfill.status == Backfill.Status.DONE
    assert [query.split()[1] for query in client.queries] == [
        "customers",
        "orders",
        "products",
        "collections",
    ]


def test_the_import_counts_each_phase_up_to_what_shopify_wrote(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Shopify's file of the customers phase, holding seven customers
    customers = [
        {
            "id": f"gid://shopify/Customer/{n}",
            "email": f"c{n}@example.com",
            "updatedAt": "2026-01-01T00:00:00Z",
        }
        for n in range(1, 8)
    ]
    monkeypatch.setattr("commerce.backfill._stream_lines", lambda url: lines(*customers))

    class WroteSeven(FakeBulkClient):
        def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            answer = super().graphql(query, variables)
            if "currentBulkOperation" in answer:
                answer["currentBulkOperation"].update(url="https://files/1.jsonl", rootObjectCount="7")
            return answer

    backfill = Backfill.objects.create(shop=shop)
    client = WroteSeven()
    backfill_advance(backfill, client)  # type: ignore[arg-type]
    assert backfill.phase_total is None  # Shopify has not written the file yet

    # When the next step finds the file written and imports it
    backfill_advance(backfill, client)  # type: ignore[arg-type]

    # Then the customers were counted to seven of seven, and the next phase starts uncounted
    backfill.refresh_from_db()
    assert backfill.customers_imported == 7
    assert (backfill.phase, backfill.phase_total, backfill.phase_imported) == ("orders", None, 0)


def test_the_import_api_says_how_far_the_current_phase_is(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    Backfill.objects.create(
        shop=shop,
        status=Backfill.Status.RUNNING,
        phase=Backfill.Phase.ORDERS,
        orders_imported=4500,
        phase_total=20000,
    )

    answer = api_client_for(shop).get("/api/import").json()["import"]

    assert (answer["phase"], answer["phase_imported"], answer["phase_total"]) == ("orders", 4500, 20000)
