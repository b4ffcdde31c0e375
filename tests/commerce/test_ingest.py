from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from commerce.ingest import (
    IngestError,
    Money,
    customer_record_from_graphql,
    customer_upsert,
    order_record_from_graphql,
    order_record_from_webhook,
    order_upsert,
    refund_record,
    refund_record_from_graphql,
    refund_record_from_webhook,
)
from commerce.models import ConsentLogEntry, Customer, Order, OrderLine, Refund
from shop_app.models import Shop
from tests.webhooks.conftest import payload

MONEY = {"shopMoney": {"amount": "10.50", "currencyCode": "JPY"}}


def order_node(updated_at: str = "2026-01-05T10:00:00Z", **changes: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/5001",
        "name": "#1001",
        "createdAt": "2026-01-05T09:00:00Z",
        "updatedAt": updated_at,
        "processedAt": "2026-01-05T09:00:01Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currencyCode": "JPY",
        "totalPriceSet": {"shopMoney": {"amount": "3300.0", "currencyCode": "JPY"}},
        "subtotalPriceSet": {"shopMoney": {"amount": "3000.0", "currencyCode": "JPY"}},
        "totalDiscountsSet": {"shopMoney": {"amount": "0.0", "currencyCode": "JPY"}},
        "totalTaxSet": {"shopMoney": {"amount": "300.0", "currencyCode": "JPY"}},
        "customer": {"id": "gid://shopify/Customer/7001"},
        "shippingAddress": {
            "city": "Sapporo",
            "province": "Hokkaido",
            "countryCodeV2": "JP",
            "zip": "060-0001",
        },
        "lineItems": {
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/9001",
                    "quantity": 2,
                    "sku": "COAT-M",
                    "title": "Winter coat",
                    "variant": {"id": "gid://shopify/ProductVariant/8001"},
                    "product": {"id": "gid://shopify/Product/6001"},
                    "originalUnitPriceSet": {"shopMoney": {"amount": "1500.0", "currencyCode": "JPY"}},
                }
            ]
        },
    }
    node.update(changes)
    return node


def customer_node(updated_at: str = "2026-01-04T00:00:00Z", **changes: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Customer/7001",
        "email": "hana@example.jp",
        "firstName": "Hana",
        "lastName": "Sato",
        "phone": "+81312345678",
        "tags": ["vip", "coffee"],
        "createdAt": "2025-06-01T00:00:00Z",
        "updatedAt": updated_at,
        "defaultAddress": {
            "city": "Sapporo",
            "province": "Hokkaido",
            "provinceCode": "JP-01",
            "countryCodeV2": "JP",
            "zip": "060-0001",
        },
        "emailMarketingConsent": {
            "marketingState": "SUBSCRIBED",
            "marketingOptInLevel": "CONFIRMED_OPT_IN",
            "consentUpdatedAt": "2025-06-01T00:00:00Z",
        },
    }
    node.update(changes)
    return node


def test_an_admin_graphql_order_becomes_a_typed_record() -> None:
    record = order_record_from_graphql(order_node())

    assert record.shopify_id == 5001
    assert record.gid == "gid://shopify/Order/5001"
    assert record.total_price == Money(Decimal("3300.00"), "JPY")
    assert record.financial_status == "partially_refunded"
    assert record.fulfillment_status == "unfulfilled"
    assert record.updated_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert record.customer_id == 7001
    assert record.customer is None
    [line] = record.lines
    assert (line.shopify_id, line.quantity, line.variant_id, line.product_id) == (9001, 2, 8001, 6001)
    assert line.unit_price == Money(Decimal("1500.00"), "JPY")


def test_a_bulk_operation_order_with_edges_reads_the_same() -> None:
    node = order_node()
    node["lineItems"] = {"edges": [{"node": item} for item in node["lineItems"]["nodes"]]}

    assert order_record_from_graphql(node).lines == order_record_from_graphql(order_node()).lines


def test_the_webhook_order_and_the_graphql_order_speak_the_same_words() -> None:
    record = order_record_from_webhook(payload("orders_create"))

    assert record.shopify_id == 820982911946154508
    assert record.total_price == Money(Decimal("359.97"), "USD")
    assert record.fulfillment_status == "unfulfilled"
    assert record.financial_status == "voided"
    assert record.created_at.tzinfo == UTC
    assert record.customer is not None
    assert record.customer.updated_at is None


def test_an_admin_graphql_customer_becomes_a_typed_record() -> None:
    record = customer_record_from_graphql(customer_node())

    assert record.shopify_id == 7001
    assert record.tags == ("coffee", "vip")
    assert record.address is not None
    assert (record.address.province_code, record.address.country_code) == ("JP-01", "JP")
    assert record.email_consent is not None
    assert (record.email_consent.state, record.email_consent.opt_in_level) == (
        "subscribed",
        "confirmed_opt_in",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "gid://shopify/Order/abc"}, "order.id: not an id"),
        ({"updatedAt": "yesterday"}, "order.updatedAt: not an ISO 8601 time"),
        ({"totalPriceSet": {"shopMoney": {"amount": "lots", "currencyCode": "JPY"}}}, "totalPriceSet"),
        ({"currencyCode": None}, "order.currencyCode: missing"),
    ],
)
def test_a_malformed_node_raises_a_clear_ingest_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(IngestError, match=message):
        order_record_from_graphql(order_node(**change))


def test_order_upsert_applies_only_newer_state_and_is_idempotent(shop: Shop) -> None:
    customer_upsert(shop, customer_record_from_graphql(customer_node()))
    first = order_upsert(shop, order_record_from_graphql(order_node("2026-01-05T10:00:00Z")))
    newer = order_upsert(
        shop, order_record_from_graphql(order_node("2026-01-05T11:00:00Z", displayFinancialStatus="REFUNDED"))
    )
    older = order_upsert(
        shop, order_record_from_graphql(order_node("2026-01-05T10:30:00Z", displayFinancialStatus="PAID"))
    )
    again = order_upsert(
        shop, order_record_from_graphql(order_node("2026-01-05T11:00:00Z", displayFinancialStatus="REFUNDED"))
    )

    assert first.pk == newer.pk == older.pk == again.pk
    order = Order.objects.for_shop(shop).get()
    assert order.financial_status == "refunded"
    assert order.customer == Customer.objects.for_shop(shop).get()
    assert order.total_price == Decimal("3300.00")
    assert OrderLine.objects.for_shop(shop).count() == 1


def test_customer_upsert_logs_consent_once_per_change(shop: Shop) -> None:
    customer_upsert(
        shop, customer_record_from_graphql(customer_node("2026-01-01T00:00:00Z")), source="backfill"
    )
    customer_upsert(
        shop, customer_record_from_graphql(customer_node("2026-01-01T00:00:00Z")), source="backfill"
    )
    unsubscribed = customer_node(
        "2026-01-02T00:00:00Z",
        emailMarketingConsent={
            "marketingState": "UNSUBSCRIBED",
            "marketingOptInLevel": "CONFIRMED_OPT_IN",
            "consentUpdatedAt": "2026-01-02T00:00:00Z",
        },
    )
    customer_upsert(shop, customer_record_from_graphql(unsubscribed), source="admin_api:reconcile")

    log = ConsentLogEntry.objects.for_shop(shop).order_by("consent_updated_at")
    assert [(entry.state, entry.source) for entry in log] == [
        ("subscribed", "backfill"),
        ("unsubscribed", "admin_api:reconcile"),
    ]


def test_consent_changes_delivered_out_of_order_are_logged_as_in_order(shop: Shop) -> None:
    # Given a shopper who subscribed, unsubscribed and subscribed again
    def changed(at: str, state: str) -> dict[str, Any]:
        consent = {"marketingState": state, "marketingOptInLevel": "SINGLE_OPT_IN", "consentUpdatedAt": at}
        return customer_node(at, emailMarketingConsent=consent)

    subscribed, unsubscribed, again = (
        changed("2026-01-01T00:00:00Z", "SUBSCRIBED"),
        changed("2026-01-02T00:00:00Z", "UNSUBSCRIBED"),
        changed("2026-01-03T00:00:00Z", "SUBSCRIBED"),
    )

    # When the last change arrives first, then the first, then the middle one
    for node in (again, subscribed, unsubscribed):
        customer_upsert(shop, customer_record_from_graphql(node), source="webhook:customers/update")

    # Then every change is logged, as in order, and the shopper holds the last
    log = ConsentLogEntry.objects.for_shop(shop).order_by("consent_updated_at")
    assert list(log.values_list("state", flat=True)) == ["subscribed", "unsubscribed", "subscribed"]
    assert Customer.objects.for_shop(shop).get().email_marketing_state == "subscribed"


def test_the_same_shopify_ids_in_two_shops_are_two_rows(shop: Shop, other_shop: Shop) -> None:
    order_upsert(shop, order_record_from_graphql(order_node()))
    order_upsert(other_shop, order_record_from_graphql(order_node(displayFinancialStatus="PAID")))

    assert Order.objects.for_shop(shop).get().financial_status == "partially_refunded"
    assert Order.objects.for_shop(other_shop).get().financial_status == "paid"


def test_refund_records_from_webhook_and_graphql_are_recorded_once(shop: Shop) -> None:
    webhook_record = refund_record_from_webhook(payload("refunds_create"))
    graphql_record = refund_record_from_graphql(
        {
            "id": "gid://shopify/Refund/890088186047892319",
            "createdAt": "2022-01-01T00:00:00Z",
            "note": None,
            "totalRefundedSet": {"shopMoney": {"amount": "89.99", "currencyCode": "USD"}},
            "refundLineItems": {
                "nodes": [
                    {
                        "id": "gid://shopify/RefundLineItem/487817672276298627",
                        "quantity": 1,
                        "restockType": "NO_RESTOCK",
                        "lineItem": {"id": "gid://shopify/LineItem/487817672276298554"},
                        "subtotalSet": {"shopMoney": {"amount": "89.99", "currencyCode": "USD"}},
                    }
                ]
            },
        },
        order_id="gid://shopify/Order/820982911946154508",
    )

    assert webhook_record.amount == graphql_record.amount == Money(Decimal("89.99"), "USD")
    assert webhook_record.lines == graphql_record.lines
    refund_record(shop, webhook_record)
    refund_record(shop, graphql_record)
    assert Refund.objects.for_shop(shop).count() == 1
