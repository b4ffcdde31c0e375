"""customers/redact for a shopper known to us only by a guest order: the email compared without
regard to case, and the free text that names her (a refund's note) erased with the rest."""

from typing import Any

from commerce.models import Order, Refund
from privacy.models import PrivacyKind, PrivacyRequest
from shop_app.models import Shop
from tests.webhooks.conftest import Deliver, payload
from tests.webhooks.test_privacy import everything_in_the_database
from webhooks.models import WebhookEvent

JANE_ID = 207119551
GUEST_ORDER_ID = 450789469001
JANE_EMAIL_AS_TYPED = "JANE.DOE@EXAMPLE.COM"
JANE_CASE_INSENSITIVE = ["jane.doe@example.com"]
JANE_EXACT = ["Jane", "Doe", "+15555550100", "555-0100", "9 Rue Personnelle", "75011"]


def jane_guest_order() -> dict[str, Any]:
    """A checkout without an account, the email typed in capitals."""
    body = payload("orders_create")
    address = {
        **body["shipping_address"],
        "first_name": "Jane",
        "last_name": "Doe",
        "name": "Jane Doe",
        "phone": "+15555550100",
        "address1": "9 Rue Personnelle",
        "zip": "75011",
        "company": None,
    }
    body.update(
        id=GUEST_ORDER_ID,
        email=JANE_EMAIL_AS_TYPED,
        contact_email=JANE_EMAIL_AS_TYPED,
        phone="+15555550100",
        customer=None,
        billing_address=address,
        shipping_address=address,
        admin_graphql_api_id=f"gid://shopify/Order/{GUEST_ORDER_ID}",
    )
    return body


def jane_refund() -> dict[str, Any]:
    body = payload("refunds_create")
    body.update(order_id=GUEST_ORDER_ID, note="Refunded at request of Jane Doe, +15555550100 (call 555-0100)")
    for transaction in body["transactions"]:
        transaction["order_id"] = GUEST_ORDER_ID
    return body


def jane_redact() -> dict[str, Any]:
    body = payload("customers_redact")
    body["customer"] = {"id": JANE_ID, "email": "jane.doe@example.com", "phone": "+15555550100"}
    body["shop_domain"] = "first-shop.myshopify.com"
    # Shopify lists the orders of her customer record; the guest checkout is not among them.
    body["orders_to_redact"] = []
    return body


def jane_leaks() -> list[tuple[str, str, str]]:
    return [
        (table, column, needle)
        for table, column, value in everything_in_the_database()
        for needle in JANE_CASE_INSENSITIVE + JANE_EXACT
        if (needle.lower() in value.lower() if needle in JANE_CASE_INSENSITIVE else needle in value)
    ]


def test_redact_erases_a_guest_order_whose_email_differs_only_in_case(shop: Shop, deliver: Deliver) -> None:
    # Given Jane's guest order, her email in capitals, and its refund
    deliver(shop, "orders/create", jane_guest_order())
    deliver(shop, "refunds/create", jane_refund())
    assert Order.objects.for_shop(shop).get(shopify_id=GUEST_ORDER_ID)
    assert jane_leaks(), "the scenario must start with Jane's data in the database"

    # When Shopify asks us to erase jane.doe@example.com
    deliver(shop, "customers/redact", jane_redact())

    # Then the order is anonymous, its amounts kept
    order = Order.objects.for_shop(shop).get(shopify_id=GUEST_ORDER_ID)
    assert order.email == ""
    assert order.redacted_at is not None
    assert order.shipping_zip == ""
    assert order.shipping_country_code == "US"
    # ... the refund stays as an amount, without the note that named her
    refund = Refund.objects.for_shop(shop).get()
    assert refund.note == ""
    assert str(refund.amount) == "89.99"
    summary = PrivacyRequest.objects.get(kind=PrivacyKind.CUSTOMER_REDACT).summary
    assert summary["commerce"]["orders_anonymised"] == 1
    assert summary["commerce"]["refund_notes_cleared"] == 1
    # ... and no row anywhere holds her name, email or phone
    assert jane_leaks() == []


def test_redact_leaves_another_shopper_s_refund_note(shop: Shop, deliver: Deliver) -> None:
    # Given Jane's guest order, and John's order refunded with a note of its own
    deliver(shop, "orders/create", jane_guest_order())
    deliver(shop, "orders/create", payload("orders_create"))
    deliver(shop, "refunds/create", payload("refunds_create"))

    # When Jane is erased
    deliver(shop, "customers/redact", jane_redact())

    # Then John's order, its refund note and the deliveries that carried them are untouched
    assert Refund.objects.for_shop(shop).get().note == "Things were damaged"
    assert Order.objects.for_shop(shop).get(shopify_id=820982911946154508).email == "jon@example.com"
    johns = WebhookEvent.objects.for_shop(shop).filter(topic="refunds/create").get()
    assert johns.redacted_at is None
    assert "Things were damaged" in johns.body
