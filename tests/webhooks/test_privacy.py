import json
from typing import Any

from django.db import connection

from commerce.models import ConsentLogEntry, Customer, Order, OrderLine, Refund
from privacy import registry
from privacy.models import PrivacyKind, PrivacyRequest, SuppressedShopper
from shop_app.models import Shop
from tests.webhooks.conftest import Deliver, payload
from webhooks.models import EventStatus, WebhookEvent

JOHN_ID = 115310627314723954
ORDER_ID = 820982911946154508

# Everything personal about John in Shopify's sample order and in his customer record.
JOHN_CASE_INSENSITIVE = ["john@example.com", "jon@example.com"]
JOHN_EXACT = [
    "John",
    "Smith",
    "+16135550123",
    "Steve",
    "Shipper",
    "555-555-SHIP",
    "123 Shipping Street",
    "Shippington",
    "40003",
    "123 Elm St.",
    "K2H7A8",
    "123-123-1234",
]


def john_customer() -> dict[str, Any]:
    body = payload("customers_create")
    address = {
        **body["default_address"],
        "customer_id": JOHN_ID,
        "first_name": "John",
        "last_name": "Smith",
        "address1": "123 Elm St.",
        "zip": "K2H7A8",
        "phone": "123-123-1234",
        "name": "John Smith",
    }
    body.update(
        id=JOHN_ID,
        email="john@example.com",
        first_name="John",
        last_name="Smith",
        phone="+16135550123",
        note=None,
        addresses=[address],
        default_address=address,
        admin_graphql_api_id=f"gid://shopify/Customer/{JOHN_ID}",
    )
    return body


def john_consent() -> dict[str, Any]:
    body = payload("customers_email_marketing_consent_update")
    body.update(customer_id=JOHN_ID, email_address="john@example.com")
    return body


def john_privacy(name: str) -> dict[str, Any]:
    body = payload(name)
    body["customer"] = {"id": JOHN_ID, "email": "john@example.com", "phone": "+16135550123"}
    body["shop_domain"] = "first-shop.myshopify.com"
    key = "orders_requested" if name == "customers_data_request" else "orders_to_redact"
    body[key] = [ORDER_ID]
    return body


def deliver_everything_about_john(shop: Shop, deliver: Deliver) -> None:
    """What Shopify sends about John: his customer record, his order and its refund, his consent."""
    deliver(shop, "customers/create", john_customer())
    deliver(shop, "orders/create", payload("orders_create"))
    deliver(shop, "refunds/create", payload("refunds_create"))
    deliver(shop, "customers_email_marketing_consent/update", john_consent())


def everything_in_the_database() -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every column of every table."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name for column in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    as_text = value if isinstance(value, str) else json.dumps(value, default=str)
                    found.append((table, column, as_text))
    return found


def leaks(values: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [
        (table, column, needle)
        for table, column, value in values
        for needle in JOHN_CASE_INSENSITIVE + JOHN_EXACT
        if (needle.lower() in value.lower() if needle in JOHN_CASE_INSENSITIVE else needle in value)
    ]


def test_data_request_assembles_everything_we_hold_into_a_downloadable_export(
    shop: Shop, deliver: Deliver
) -> None:
    deliver_everything_about_john(shop, deliver)

    deliver(shop, "customers/data_request", john_privacy("customers_data_request"))

    request = PrivacyRequest.objects.get(shop=shop)
    assert request.kind == PrivacyKind.DATA_REQUEST
    assert request.completed_at is not None
    assert request.shopify_request_id == 9999
    sections = request.export["sections"]  # type: ignore[index]
    assert set(sections) >= {"commerce", "webhook_events"}
    profile = sections["commerce"]["profile"]
    assert [(p["email"], p["first_name"], p["last_name"]) for p in profile] == [
        ("john@example.com", "John", "Smith")
    ]
    [order] = sections["commerce"]["orders"]
    assert order["id"] == ORDER_ID
    assert order["total_price"] == {"amount": "359.97", "currency": "USD"}
    assert len(order["lines"]) == 3
    assert order["refunds"][0]["amount"] == {"amount": "89.99", "currency": "USD"}
    assert [entry["state"] for entry in sections["commerce"]["consent_log"]] == [
        "subscribed",
        "unsubscribed",
    ]
    assert {event["topic"] for event in sections["webhook_events"]} >= {"orders/create", "customers/create"}


def test_redact_leaves_none_of_the_shopper_s_personal_data_in_any_table(
    shop: Shop, other_shop: Shop, deliver: Deliver
) -> None:
    # Given everything Shopify sends about John, a data request already exported, and Bob, another
    # shopper of the same shop, and Bob again in a second shop
    deliver_everything_about_john(shop, deliver)
    deliver(shop, "customers/data_request", john_privacy("customers_data_request"))
    deliver(shop, "customers/create", payload("customers_create"))
    deliver(other_shop, "customers/create", payload("customers_create"))
    assert leaks(everything_in_the_database()), "the scenario must start with John's data in the database"

    # When Shopify asks us to erase John
    response = deliver(shop, "customers/redact", john_privacy("customers_redact"))

    # Then no table holds John's email, name, phone or address
    assert response.status_code == 200
    assert leaks(everything_in_the_database()) == []
    # ... the order stays as an anonymous aggregate
    order = Order.objects.for_shop(shop).get()
    assert order.total_price is not None
    assert order.customer_shopify_id is None
    assert order.redacted_at is not None
    assert OrderLine.objects.for_shop(shop).filter(order=order).count() == 3
    assert Refund.objects.for_shop(shop).count() == 1
    # ... a hashed suppression entry remains, and the erasure is logged with its time
    assert SuppressedShopper.objects.for_shop(shop).count() == 1
    redact = PrivacyRequest.objects.get(shop=shop, kind=PrivacyKind.CUSTOMER_REDACT)
    assert redact.completed_at is not None
    assert redact.summary["commerce"]["profiles_deleted"] == 1
    assert PrivacyRequest.objects.get(kind=PrivacyKind.DATA_REQUEST).export is None
    # ... and Bob, here and in the other shop, is untouched
    assert Customer.objects.for_shop(shop).get().email == "bob@biller.com"
    assert Customer.objects.for_shop(other_shop).get().email == "bob@biller.com"
    assert not ConsentLogEntry.objects.for_shop(shop).filter(customer_shopify_id=JOHN_ID).exists()


def test_a_late_delivery_about_an_erased_shopper_does_not_bring_their_data_back(
    shop: Shop, deliver: Deliver
) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    deliver(shop, "customers/redact", john_privacy("customers_redact"))

    # When Shopify retries an older orders/updated and a customers/update for John
    late = payload("orders_create")
    late["updated_at"] = "2022-02-01T00:00:00Z"
    deliver(shop, "orders/updated", late)
    deliver(shop, "customers/update", john_customer())
    deliver(shop, "customers_email_marketing_consent/update", john_consent())

    # Then the order is updated but anonymous, and no trace of John is stored anywhere
    order = Order.objects.for_shop(shop).get()
    assert order.shopify_updated_at.year == 2022
    assert order.shopify_updated_at.month == 2
    assert order.customer_shopify_id is None
    assert leaks(everything_in_the_database()) == []
    assert WebhookEvent.objects.for_shop(shop).exclude(status=EventStatus.DONE).count() == 0


def test_shop_redact_deletes_all_of_the_shop_s_data_and_keeps_the_record(
    shop: Shop, other_shop: Shop, deliver: Deliver
) -> None:
    # Given a shop that uninstalled 48 hours ago, and another shop
    for owner in (shop, other_shop):
        deliver(owner, "orders/create", payload("orders_create"))
        deliver(owner, "customers/create", payload("customers_create"))
    deliver(shop, "customers/data_request", john_privacy("customers_data_request"))
    deliver(shop, "app/uninstalled", payload("app_uninstalled"))

    # When Shopify sends shop/redact
    response = deliver(shop, "shop/redact", payload("shop_redact"))

    # Then everything of that shop is gone, the shop itself included
    assert response.status_code == 200
    assert not Shop.objects.filter(domain="first-shop.myshopify.com").exists()
    for model in (Order, OrderLine, Customer, ConsentLogEntry, WebhookEvent):
        assert not model.objects.exclude(shop=other_shop).exists(), model
    # ... the erasure is on record, without any export left
    record = PrivacyRequest.objects.get(kind=PrivacyKind.SHOP_REDACT)
    assert record.shop is None
    assert record.shop_domain == "first-shop.myshopify.com"
    assert record.completed_at is not None
    assert not PrivacyRequest.objects.exclude(export=None).exists()
    # ... and the other shop keeps all of its data
    assert Order.objects.for_shop(other_shop).count() == 1
    assert Customer.objects.for_shop(other_shop).count() == 2


def test_shop_redact_for_a_shop_that_installed_again_deletes_nothing(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"))

    deliver(shop, "shop/redact", payload("shop_redact"))

    assert Order.objects.for_shop(shop).count() == 1
    record = PrivacyRequest.objects.get(kind=PrivacyKind.SHOP_REDACT)
    assert record.summary == {"skipped": 1}
    assert record.completed_at is not None


def test_a_later_module_plugs_into_the_privacy_registry(shop: Shop, deliver: Deliver) -> None:
    erased: list[int | None] = []
    provider = registry.PrivacyProvider(
        name="points",
        export_shopper=lambda shop, ref: {"balance": 120, "customer": ref.customer_id},
        erase_shopper=lambda shop, ref: erased.append(ref.customer_id) or {"entries": 2},  # type: ignore[func-returns-value]
        erase_shop=lambda shop: {"entries": 0},
    )
    registry.privacy_provider_register(provider)
    try:
        deliver(shop, "customers/data_request", john_privacy("customers_data_request"))
        export = PrivacyRequest.objects.get(kind=PrivacyKind.DATA_REQUEST).export
        assert export is not None
        assert export["sections"]["points"] == {"balance": 120, "customer": JOHN_ID}
        deliver(shop, "customers/redact", john_privacy("customers_redact"))
    finally:
        registry._PROVIDERS.pop("points")

    redact = PrivacyRequest.objects.get(kind=PrivacyKind.CUSTOMER_REDACT)
    assert redact.summary["points"] == {"entries": 2}
    assert erased == [JOHN_ID]
