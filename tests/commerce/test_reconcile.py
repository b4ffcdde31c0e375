from datetime import UTC, datetime
from typing import Any

import pytest

from commerce import reconcile
from commerce.backfill import BULK_QUERIES
from commerce.ingest import (
    collection_record_from_webhook,
    collection_upsert,
    order_record_from_graphql,
    order_record_from_webhook,
    order_upsert,
)
from commerce.models import (
    Backfill,
    CollectionMembership,
    Customer,
    Order,
    OrderLine,
    Product,
    SyncCursor,
    Variant,
)
from commerce.reconcile import collection_refresh, order_read, reconcile_shop
from shop_app.models import Shop
from tests.commerce.catalog_nodes import collection_node, product_node, variant_node
from tests.commerce.fake_shopify import FakeShopify
from tests.commerce.test_ingest import customer_node, order_node
from tests.webhooks.conftest import payload

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
FIRST_WINDOW = "updated_at:>='2026-01-05T12:00:00Z'"


def order_with_lines(count: int, updated_at: str = "2026-01-06T09:00:00Z", **changes: Any) -> dict[str, Any]:
    """An order as Shopify holds it, with `count` line items."""
    node = order_node(updated_at, **changes)
    [line] = node["lineItems"]["nodes"]
    node["lineItems"] = {
        "nodes": [{**line, "id": f"gid://shopify/LineItem/{9001 + index}"} for index in range(count)]
    }
    return node


def test_reconciliation_repairs_what_missed_webhooks_left_behind(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Shopify holds a customer and two orders we never heard of, listed one per page
    monkeypatch.setattr(reconcile, "PAGE_SIZE", 1)
    shopify = FakeShopify(
        customers=[customer_node("2026-01-06T08:00:00Z")],
        orders=[
            order_node("2026-01-06T10:00:00Z", id="gid://shopify/Order/5002", name="#1002"),
            order_node("2026-01-06T09:00:00Z"),
        ],
    )

    # When reconciliation runs
    report = reconcile_shop(shop, shopify, now=NOW)

    # Then both orders and the customer are stored, read page by page from 24 hours back
    assert (report.customers.applied, report.orders.applied) == (1, 2)
    assert sorted(Order.objects.for_shop(shop).values_list("name", flat=True)) == ["#1001", "#1002"]
    assert Order.objects.for_shop(shop).get(name="#1001").customer == Customer.objects.for_shop(shop).get()
    assert shopify.calls_to("customers")[0] == {
        "first": 1,
        "after": None,
        "query": FIRST_WINDOW,
        "sortKey": "UPDATED_AT",
    }
    assert [call["after"] for call in shopify.calls_to("orders")] == [None, "1"]
    # ... each changed order read on its own, oldest change first
    assert [call["id"] for call in shopify.calls_to("order")] == [
        "gid://shopify/Order/5001",
        "gid://shopify/Order/5002",
    ]
    # ... and the cursor follows Shopify's newest updatedAt
    cursor = SyncCursor.objects.for_shop(shop).get(resource="orders")
    assert cursor.synced_through == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


def test_every_reconciliation_query_stays_well_under_shopify_s_cost_limit(shop: Shop) -> None:
    # Given a long order and a full page of customers
    shopify = FakeShopify(
        customers=[
            customer_node("2026-01-06T08:00:00Z", id=f"gid://shopify/Customer/{7001 + index}")
            for index in range(100)
        ],
        orders=[order_with_lines(120)],
    )

    # When reconciliation runs (Shopify would refuse any query over 1,000 points)
    report = reconcile_shop(shop, shopify, now=NOW)

    # Then every query was answered, each asking for at most a third of the limit
    assert (report.customers.applied, report.orders.applied) == (100, 1)
    assert max(shopify.costs) < 350


def test_an_order_longer_than_a_page_of_line_items_arrives_with_every_line(shop: Shop) -> None:
    # Given an order of 120 lines, more than one page of 50
    shopify = FakeShopify(orders=[order_with_lines(120)])

    # When reconciliation reads it
    reconcile_shop(shop, shopify, now=NOW)

    # Then all its lines are stored, read in three pages of at most 50
    order = Order.objects.for_shop(shop).get()
    assert OrderLine.objects.for_shop(shop).filter(order=order).count() == 120
    assert len(shopify.calls_to("order")) == 3


def test_a_newer_state_with_fewer_lines_replaces_the_lines(shop: Shop) -> None:
    reconcile_shop(shop, FakeShopify(orders=[order_with_lines(120)]), now=NOW)

    reconcile_shop(shop, FakeShopify(orders=[order_with_lines(2, "2026-01-06T11:00:00Z")]), now=NOW)

    assert OrderLine.objects.for_shop(shop).count() == 2


def test_an_order_changed_while_its_lines_are_read_is_read_again_from_the_start(shop: Shop) -> None:
    # Given an order that Shopify changes after its first page of lines was read
    shopify = FakeShopify(orders=[order_with_lines(60)])
    answer = shopify.graphql

    def changing(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        data = answer(query, variables)
        if len(shopify.calls_to("order")) == 1:
            shopify.store["orders"] = [order_with_lines(70, "2026-01-06T09:30:00Z")]
        return data

    shopify.graphql = changing  # type: ignore[method-assign]

    # When it is read
    node = order_read(shopify, "gid://shopify/Order/5001")

    # Then the lines are those of the newer state only
    assert node is not None
    assert node["updatedAt"] == "2026-01-06T09:30:00Z"
    assert len(node["lineItems"]["nodes"]) == 70


def test_the_cursor_is_saved_after_every_page_so_a_pass_cut_short_resumes(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two pages of changed orders, and the API failing while the second page is listed
    monkeypatch.setattr(reconcile, "PAGE_SIZE", 1)
    shopify = FakeShopify(
        orders=[
            order_node("2026-01-06T09:00:00Z"),
            order_node("2026-01-06T10:00:00Z", id="gid://shopify/Order/5002", name="#1002"),
        ]
    )
    answer = shopify.graphql

    def failing_on_the_second_page(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if (variables or {}).get("after") == "1":
            raise ConnectionError("Shopify went away")
        return answer(query, variables)

    shopify.graphql = failing_on_the_second_page  # type: ignore[method-assign]

    # When the pass fails part-way
    with pytest.raises(ConnectionError):
        reconcile_shop(shop, shopify, now=NOW)

    # Then the first page's order is stored and the cursor stands after it
    assert list(Order.objects.for_shop(shop).values_list("name", flat=True)) == ["#1001"]
    cursor = SyncCursor.objects.for_shop(shop).get(resource="orders")
    assert cursor.synced_through == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def test_a_second_pass_reads_no_order_in_full_and_changes_nothing(shop: Shop) -> None:
    # Given a pass that stored everything
    shopify = FakeShopify(customers=[customer_node("2026-01-06T08:00:00Z")], orders=[order_with_lines(3)])
    reconcile_shop(shop, shopify, now=NOW)
    synced = Order.objects.for_shop(shop).get().synced_at
    shopify.calls.clear()

    # When the next pass runs with nothing changed at Shopify
    report = reconcile_shop(shop, shopify, now=NOW)

    # Then it only listed (re-reading the boundary second) and applied nothing
    assert (report.customers.applied, report.orders.applied) == (0, 0)
    assert (report.customers.unchanged, report.orders.unchanged) == (1, 1)
    assert shopify.calls_to("order") == []
    assert Order.objects.for_shop(shop).get().synced_at == synced


def test_the_next_pass_starts_at_the_cursor_and_never_rolls_newer_state_back(shop: Shop) -> None:
    reconcile_shop(shop, FakeShopify(orders=[order_node("2026-01-06T09:00:00Z")]), now=NOW)
    Order.objects.for_shop(shop).update(
        financial_status="refunded", shopify_updated_at=datetime(2026, 1, 6, 11, 0, tzinfo=UTC)
    )
    shopify = FakeShopify(orders=[order_node("2026-01-06T09:00:00Z")])

    reconcile_shop(shop, shopify, now=NOW)

    assert shopify.calls_to("orders")[-1]["query"] == "updated_at:>='2026-01-06T09:00:00Z'"
    assert shopify.calls_to("order") == []
    assert Order.objects.for_shop(shop).get().financial_status == "refunded"


def test_reconciliation_keeps_the_email_and_address_the_webhook_stored(shop: Shop) -> None:
    # Given an order stored from its orders/create webhook, with the shopper's email
    webhook = order_record_from_webhook(payload("orders_create"))
    order_upsert(shop, webhook)
    stored = Order.objects.for_shop(shop).get()
    assert stored.email == "jon@example.com"

    # When Shopify reports a later change of the same order to reconciliation
    shopify = FakeShopify(
        orders=[
            order_node(
                "2026-01-06T09:00:00Z",
                id=webhook.gid,
                email="jon@example.com",
                shippingAddress={
                    "city": "Shippington",
                    "province": "Kentucky",
                    "provinceCode": "KY",
                    "countryCodeV2": "US",
                    "zip": "40003",
                },
            )
        ]
    )
    report = reconcile_shop(shop, shopify, now=NOW)

    # Then the order keeps its email and address
    assert report.orders.applied == 1
    stored.refresh_from_db()
    assert stored.email == "jon@example.com"
    assert (stored.shipping_city, stored.shipping_province, stored.shipping_country_code) == (
        "Shippington",
        "Kentucky",
        "US",
    )


def test_reconciliation_and_the_backfill_read_the_same_order() -> None:
    # Given an order with every field either source reads
    node = order_with_lines(
        2,
        email="hana@example.jp",
        shippingAddress={
            "city": "Sapporo",
            "province": "Hokkaido",
            "provinceCode": "JP-01",
            "countryCodeV2": "JP",
            "zip": "060-0001",
        },
    )
    shopify = FakeShopify(orders=[node])

    # When each reads it with its own query
    reconciled = order_read(shopify, node["id"])
    backfilled = shopify.graphql(BULK_QUERIES[Backfill.Phase.ORDERS])["orders"]["edges"][0]["node"]

    # Then both make the same record, and it is the whole order
    assert reconciled is not None
    record = order_record_from_graphql(reconciled)
    assert record == order_record_from_graphql(backfilled)
    assert record == order_record_from_graphql(node)
    assert record.email == "hana@example.jp"
    assert record.shipping_address is not None
    assert record.shipping_address.province_code == "JP-01"


def test_reconciliation_and_the_backfill_read_the_same_customer() -> None:
    shopify = FakeShopify(customers=[customer_node()])

    reconciled = shopify.graphql(reconcile.CUSTOMERS_QUERY, {"first": 1})["customers"]["nodes"][0]
    backfilled = shopify.graphql(BULK_QUERIES[Backfill.Phase.CUSTOMERS])["customers"]["edges"][0]["node"]

    assert reconciled == backfilled == customer_node()


def test_a_malformed_order_is_reported_and_the_rest_applied(shop: Shop) -> None:
    shopify = FakeShopify(
        orders=[
            order_node("2026-01-06T09:00:00Z", currencyCode=None),
            order_node("2026-01-06T10:00:00Z", id="gid://shopify/Order/5002", name="#1002"),
        ]
    )

    report = reconcile_shop(shop, shopify, now=NOW)

    assert (report.orders.applied, report.orders.rejected) == (1, 1)
    assert "order.currencyCode: missing" in report.orders.errors[0]
    assert list(Order.objects.for_shop(shop).values_list("name", flat=True)) == ["#1002"]


def test_a_line_item_with_a_malformed_quantity_rejects_only_its_order(shop: Shop) -> None:
    bad = order_node("2026-01-06T09:00:00Z")
    bad["lineItems"]["nodes"][0]["quantity"] = "two"
    shopify = FakeShopify(
        orders=[bad, order_node("2026-01-06T10:00:00Z", id="gid://shopify/Order/5002", name="#1002")]
    )

    report = reconcile_shop(shop, shopify, now=NOW)

    assert (report.orders.applied, report.orders.rejected) == (1, 1)
    assert "lineItems[0].quantity: not an integer" in report.orders.errors[0]


def test_reconciling_one_shop_leaves_the_other_alone(shop: Shop, other_shop: Shop) -> None:
    reconcile_shop(shop, FakeShopify(orders=[order_node("2026-01-06T09:00:00Z")]), now=NOW)

    assert Order.objects.for_shop(shop).exists()
    assert not Order.objects.for_shop(other_shop).exists()
    assert not SyncCursor.objects.for_shop(other_shop).exists()


def product_with_variants(
    count: int, updated_at: str = "2026-01-06T09:00:00Z", **changes: Any
) -> dict[str, Any]:
    """A product as Shopify holds it, with `count` variants."""
    return product_node(
        updated_at,
        variants=[
            variant_node(index + 1, f"Size {index + 1}", updated_at=updated_at) for index in range(count)
        ],
        **changes,
    )


def test_reconciliation_brings_changed_products_with_every_variant_and_collections_with_members(
    shop: Shop,
) -> None:
    # Given Shopify holds a product of 120 variants (more than a page) and a collection of it
    shopify = FakeShopify(
        products=[product_with_variants(120)],
        collections=[collection_node("2026-01-06T10:00:00Z", product_ids=(6001,))],
    )

    # When reconciliation runs
    report = reconcile_shop(shop, shopify, now=NOW)

    # Then the product arrives with all its variants, read in pages of 100, and the collection
    # with its member, linked to the product
    assert (report.products.applied, report.collections.applied) == (1, 1)
    product = Product.objects.for_shop(shop).get()
    assert Variant.objects.for_shop(shop).filter(product=product).count() == 120
    assert len(shopify.calls_to("product")) == 2
    assert CollectionMembership.objects.for_shop(shop).get().product == product
    assert SyncCursor.objects.for_shop(shop).get(resource="products").synced_through == datetime(
        2026, 1, 6, 9, 0, tzinfo=UTC
    )
    assert SyncCursor.objects.for_shop(shop).get(resource="collections").synced_through == datetime(
        2026, 1, 6, 10, 0, tzinfo=UTC
    )
    # ... each query well under Shopify's limit of 1,000 points
    assert max(shopify.costs) < 350


def test_a_product_we_hold_as_new_is_listed_but_not_read_again(shop: Shop) -> None:
    reconcile_shop(shop, FakeShopify(products=[product_with_variants(2)]), now=NOW)
    shopify = FakeShopify(products=[product_with_variants(2)])

    report = reconcile_shop(shop, shopify, now=NOW)

    assert (report.products.applied, report.products.unchanged) == (0, 1)
    assert shopify.calls_to("product") == []


def test_a_collection_whose_members_were_never_read_is_read_by_reconciliation(shop: Shop) -> None:
    # Given collections/create brought the collection, and the read of its members failed
    collection_upsert(
        shop, collection_record_from_webhook({"id": 7001, "updated_at": "2026-01-06T10:00:00Z"})
    )
    shopify = FakeShopify(collections=[collection_node("2026-01-06T10:00:00Z", product_ids=(6001, 6002))])

    # When reconciliation runs
    reconcile_shop(shop, shopify, now=NOW)

    # Then its members are read and stored
    assert sorted(
        CollectionMembership.objects.for_shop(shop).values_list("product_shopify_id", flat=True)
    ) == [
        6001,
        6002,
    ]


def test_a_malformed_product_is_reported_and_the_rest_applied(shop: Shop) -> None:
    bad = product_with_variants(1, "2026-01-06T09:00:00Z", id="gid://shopify/Product/6009")
    bad["variants"]["nodes"][0]["price"] = "cheap"
    shopify = FakeShopify(products=[bad, product_with_variants(1, "2026-01-06T10:00:00Z")])

    report = reconcile_shop(shop, shopify, now=NOW)

    assert (report.products.applied, report.products.rejected) == (1, 1)
    assert "variants[0].price: not an amount" in report.products.errors[0]
    assert list(Product.objects.for_shop(shop).values_list("shopify_id", flat=True)) == [6001]


def test_collection_refresh_reads_every_member_page_by_page(shop: Shop) -> None:
    shopify = FakeShopify(collections=[collection_node(product_ids=tuple(range(1, 301)))])

    collection = collection_refresh(shop, shopify, 7001)

    assert collection is not None
    assert CollectionMembership.objects.for_shop(shop).filter(collection=collection).count() == 300
    assert len(shopify.calls_to("collection")) == 2
    assert collection_refresh(shop, FakeShopify(), 7002) is None
