"""Emails are normalized once, where Shopify's data comes in (lower-case, no surrounding spaces),
so that every later comparison, a privacy lookup and its erasure alike, is a plain `=`."""

import importlib

import pytest
from django.apps import apps

from commerce.models import Customer, Order
from commerce.records import (
    customer_record_from_graphql,
    customer_record_from_webhook,
    order_record_from_graphql,
    order_record_from_webhook,
)
from privacy.registry import ShopperRef
from shop_app.models import Shop
from tests.commerce.test_ingest import order_node
from tests.webhooks.conftest import payload

AS_TYPED = "  Jane.DOE@Example.COM "
STORED = "jane.doe@example.com"


def test_every_adapter_that_reads_an_email_normalizes_it() -> None:
    order = payload("orders_create")
    order.update(email=AS_TYPED)
    order["customer"]["email"] = AS_TYPED
    guest = payload("orders_create")
    guest.update(email=None, contact_email=AS_TYPED, customer=None)

    assert customer_record_from_webhook({"id": 1, "email": AS_TYPED}).email == STORED
    assert order_record_from_webhook(order).email == STORED
    assert order_record_from_webhook(order).customer.email == STORED  # type: ignore[union-attr]
    assert order_record_from_webhook(guest).email == STORED
    assert customer_record_from_graphql({"id": "gid://shopify/Customer/1", "email": AS_TYPED}).email == STORED
    assert order_record_from_graphql(order_node(email=AS_TYPED)).email == STORED


def test_no_email_stays_empty() -> None:
    assert customer_record_from_webhook({"id": 1, "email": None}).email == ""
    assert order_record_from_graphql(order_node(email=None)).email == ""


def test_a_privacy_request_s_email_is_normalized_the_same_way() -> None:
    assert ShopperRef(customer_id=None, email=AS_TYPED).email == STORED


@pytest.mark.django_db
def test_the_migration_brings_emails_stored_before_to_the_same_form(shop: Shop) -> None:
    # Given rows stored before emails were normalized
    customer = Customer.objects.create(shop=shop, shopify_id=1, email=AS_TYPED)
    order = Order.objects.create(
        shop=shop,
        shopify_id=2,
        email="JANE.DOE@EXAMPLE.COM",
        currency="USD",
        total_price="1.00",
        subtotal_price="1.00",
        total_discounts="0.00",
        total_tax="0.00",
        shopify_created_at="2026-01-05T09:00:00Z",
        shopify_updated_at="2026-01-05T09:00:00Z",
    )
    no_email = Customer.objects.create(shop=shop, shopify_id=3, email="")

    # When the data migration runs
    migration = importlib.import_module("commerce.migrations.0004_emails_lower_case")
    migration.emails_lower_case(apps, None)

    # Then they read as ingest now writes them
    customer.refresh_from_db()
    order.refresh_from_db()
    no_email.refresh_from_db()
    assert (customer.email, order.email, no_email.email) == (STORED, STORED, "")
