"""Set-based ingest: many records of one shop in a few queries, applied in turn, with the rows one
call per record would leave."""

from typing import Any

from commerce.backfill import backfill_import_lines
from commerce.ingest import (
    customer_record_from_graphql,
    customers_upsert,
    order_record_from_graphql,
    orders_upsert,
)
from commerce.models import Backfill, ConsentLogEntry, Customer, Order, OrderLine
from shop_app.models import Shop
from tests.commerce.test_backfill_jsonl import lines
from tests.commerce.test_ingest import customer_node, order_node


def test_orders_of_one_set_are_applied_in_turn_newest_state_winning(shop: Shop) -> None:
    # Given one order's states out of order in one set, the same state twice among them
    states = [
        order_node("2026-01-05T10:00:00Z", displayFinancialStatus="PENDING"),
        order_node("2026-01-05T12:00:00Z", displayFinancialStatus="PAID"),
        order_node("2026-01-05T11:00:00Z", displayFinancialStatus="VOIDED"),
        order_node("2026-01-05T12:00:00Z", displayFinancialStatus="PAID"),
    ]

    rows = orders_upsert(shop, [(order_record_from_graphql(node), None) for node in states])

    # Then there is one order, in its newest state, with its lines once
    order = Order.objects.for_shop(shop).get()
    assert {row.pk for row in rows} == {order.pk}
    assert order.financial_status == "paid"
    assert OrderLine.objects.for_shop(shop).filter(order=order).count() == 1


def test_an_order_naming_its_shopper_finds_them_only_once_an_earlier_record_brought_them(shop: Shop) -> None:
    # Given an order naming shopper 7001 by id, then an order carrying them, then another naming them
    carried = {"id": "gid://shopify/Customer/7001", **{k: v for k, v in customer_node().items() if k != "id"}}
    first = order_node(id="gid://shopify/Order/1")
    second = order_node(id="gid://shopify/Order/2", customer=carried)
    third = order_node(id="gid://shopify/Order/3")

    orders_upsert(shop, [(order_record_from_graphql(node), None) for node in (first, second, third)])

    # Then the first order has no shopper row yet, as it would have had alone, and the others do
    customer = Customer.objects.for_shop(shop).get(shopify_id=7001)
    linked = dict(Order.objects.for_shop(shop).values_list("shopify_id", "customer_id"))
    assert linked == {1: None, 2: customer.pk, 3: customer.pk}
    assert set(Order.objects.for_shop(shop).values_list("customer_shopify_id", flat=True)) == {7001}


def test_a_shopper_s_consent_changes_in_one_set_are_each_logged_once(shop: Shop) -> None:
    def consent(state: str, at: str) -> dict[str, Any]:
        return {"marketingState": state, "marketingOptInLevel": "SINGLE_OPT_IN", "consentUpdatedAt": at}

    nodes = [
        customer_node(
            "2026-01-01T00:00:00Z", emailMarketingConsent=consent("SUBSCRIBED", "2026-01-01T00:00:00Z")
        ),
        customer_node(
            "2026-01-02T00:00:00Z", emailMarketingConsent=consent("UNSUBSCRIBED", "2026-01-02T00:00:00Z")
        ),
        customer_node(
            "2026-01-03T00:00:00Z", emailMarketingConsent=consent("SUBSCRIBED", "2026-01-03T00:00:00Z")
        ),
        customer_node(
            "2026-01-03T00:00:00Z", emailMarketingConsent=consent("SUBSCRIBED", "2026-01-03T00:00:00Z")
        ),
    ]

    customers_upsert(shop, [customer_record_from_graphql(node) for node in nodes], source="test")

    logged = (
        ConsentLogEntry.objects.for_shop(shop).order_by("consent_updated_at").values_list("state", flat=True)
    )
    assert list(logged) == ["subscribed", "unsubscribed", "subscribed"]
    assert Customer.objects.for_shop(shop).get().email_marketing_state == "subscribed"


def test_the_backfill_imports_a_chunk_of_orders_in_a_few_queries(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    # Given a bulk file of 50 orders with a line each
    orders = [order_node(id=f"gid://shopify/Order/{number}") for number in range(1, 51)]
    for order in orders:
        del order["lineItems"]  # in a bulk file, lines follow their order on lines of their own
    children = [
        {
            "id": f"gid://shopify/LineItem/{number}",
            "quantity": 1,
            "originalUnitPriceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "JPY"}},
            "__parentId": f"gid://shopify/Order/{number}",
        }
        for number in range(1, 51)
    ]
    file = lines(*(item for pair in zip(orders, children, strict=True) for item in pair))
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.ORDERS)

    # When it is imported: a query per table, not per order
    with django_assert_max_num_queries(15):
        assert backfill_import_lines(backfill, file)

    assert Order.objects.for_shop(shop).count() == 50
    assert OrderLine.objects.for_shop(shop).count() == 50
    assert Backfill.objects.get(pk=backfill.pk).orders_imported == 50
