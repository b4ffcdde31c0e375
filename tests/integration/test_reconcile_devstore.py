"""Reconciliation against a live devstore: Shopify's query costs, its search syntax and its paging,
as devstore serves them over HTTP."""

import sqlite3
from typing import Any

import pytest

from commerce.models import Customer, Order, OrderLine, SyncCursor
from commerce.reconcile import reconcile_shop
from shop_app.admin_api import AdminClient
from tests.live import Devstore, install

pytestmark = pytest.mark.integration


def devstore_rows(devstore: Devstore, sql: str) -> list[Any]:
    """What devstore holds, read from its database (read-only), to compare ours with."""
    with sqlite3.connect(f"file:{devstore.db_path}?mode=ro", uri=True) as store:
        shop_id = store.execute("SELECT id FROM shops WHERE domain = ?", (devstore.shop,)).fetchone()[0]
        return store.execute(sql, {"shop": shop_id}).fetchall()


def place_long_order(devstore: Devstore, lines: int) -> int:
    """An order with more line items than one page holds, by a seeded shopper."""
    variants = [
        variant
        for product in devstore.control("GET", "/products", limit="250")["products"]
        for variant in product["variants"]
        if (variant["inventory_quantity"] or 0) > 0
    ]
    assert len(variants) >= lines, f"the seeded catalogue has only {len(variants)} variants in stock"
    customer = devstore.control("GET", "/customers", limit="1")["customers"][0]
    order = devstore.control(
        "POST",
        "/orders",
        {
            "customer_id": customer["id"],
            "lines": [{"variant_id": variant["id"], "quantity": 1} for variant in variants[:lines]],
        },
    )["order"]
    # Its webhooks go to the live app (stored, never processed: no worker runs here); let them
    # land while the test still owns the database.
    devstore.control("POST", "/webhooks/wait", {"timeout": 20})
    return int(order["id"])


def test_reconciliation_brings_every_order_with_all_its_lines_and_every_customer(
    devstore: Devstore, db: None, settings: Any
) -> None:
    # Given a store with history, an order of 60 lines, and a shop that heard none of it
    devstore.seed(customers=30, orders=150)
    shop = install(devstore)
    long_order = place_long_order(devstore, 60)
    # The first pass looks back far enough to cover the seeded history.
    settings.RECONCILE_FIRST_WINDOW_HOURS = 24 * 365 * 5

    # When reconciliation runs against devstore (which refuses any query over 1,000 points)
    report = reconcile_shop(shop, AdminClient(shop))

    # Then every order arrived with all its lines, email and shopper
    assert report.orders.rejected == report.customers.rejected == 0
    expected_orders = {
        order_id: (lines, email or "", customer_id)
        for order_id, lines, email, customer_id in devstore_rows(
            devstore,
            "SELECT id, (SELECT COUNT(*) FROM line_items WHERE order_id = orders.id), email, customer_id"
            " FROM orders WHERE shop_id = :shop",
        )
    }
    assert len(expected_orders) == 151
    line_counts = {order.pk: 0 for order in Order.objects.for_shop(shop)}
    for order_pk in OrderLine.objects.for_shop(shop).values_list("order_id", flat=True):
        line_counts[order_pk] += 1
    held_orders = {
        order.shopify_id: (line_counts[order.pk], order.email, order.customer_shopify_id)
        for order in Order.objects.for_shop(shop)
    }
    assert held_orders == expected_orders
    assert held_orders[long_order][0] == 60
    assert report.orders.applied == 151
    # ... linked to their shoppers, read first
    assert not Order.objects.for_shop(shop).filter(customer_shopify_id__isnull=False, customer=None).exists()
    # ... and every customer arrived with their email
    expected_customers = {
        customer_id: email or ""
        for customer_id, email in devstore_rows(
            devstore, "SELECT id, email FROM customers WHERE shop_id = :shop"
        )
    }
    held_customers = dict(Customer.objects.for_shop(shop).values_list("shopify_id", "email"))
    assert held_customers == expected_customers
    # One cursor per resource reconciled: customers, orders, products and collections
    assert set(SyncCursor.objects.for_shop(shop).values_list("resource", flat=True)) == {
        "customers",
        "orders",
        "products",
        "collections",
    }

    # When the next pass runs with nothing changed in the store
    synced = dict(Order.objects.for_shop(shop).values_list("shopify_id", "synced_at"))
    again = reconcile_shop(shop, AdminClient(shop))

    # Then it applies nothing and leaves every order as it was
    assert (again.customers.applied, again.orders.applied) == (0, 0)
    assert (again.customers.rejected, again.orders.rejected) == (0, 0)
    assert dict(Order.objects.for_shop(shop).values_list("shopify_id", "synced_at")) == synced


def test_an_order_changed_in_the_store_is_read_again_by_the_next_pass(
    devstore: Devstore, db: None, settings: Any
) -> None:
    # Given a reconciled store
    devstore.seed(customers=5, orders=10)
    shop = install(devstore)
    settings.RECONCILE_FIRST_WINDOW_HOURS = 24 * 365 * 5
    reconcile_shop(shop, AdminClient(shop))
    order = Order.objects.for_shop(shop).order_by("shopify_id").first()
    assert order is not None

    # When the merchant changes an order's email in Shopify (its webhook lost)
    devstore.control("POST", f"/orders/{order.shopify_id}/update", {"email": "new-address@example.com"})
    devstore.control("POST", "/webhooks/wait", {"timeout": 20})
    report = reconcile_shop(shop, AdminClient(shop))

    # Then the next pass reads that order, and only that one, in full
    order.refresh_from_db()
    assert order.email == "new-address@example.com"
    assert report.orders.applied == 1
