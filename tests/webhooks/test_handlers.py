from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce import reconcile as commerce_reconcile
from commerce.models import (
    Collection,
    CollectionMembership,
    ConsentLogEntry,
    Customer,
    InventoryLevel,
    Order,
    OrderLine,
    Product,
    Refund,
    RefundLine,
    Variant,
)
from shop_app.models import Shop
from shop_app.tokens import ShopNotAuthorized
from tests.commerce.catalog_nodes import collection_node
from tests.commerce.fake_shopify import FakeShopify
from tests.webhooks.conftest import Deliver, payload, stored_event
from webhooks.models import EventStatus, WebhookEvent
from webhooks.processing import webhook_event_process


def test_orders_create_stores_the_order_its_lines_shopper_and_money(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"))

    order = Order.objects.for_shop(shop).get(shopify_id=820982911946154508)
    assert order.name == "#9999"
    assert order.currency == "USD"
    assert order.total_price == Decimal("359.97")
    assert order.subtotal_price == Decimal("359.97")
    assert order.total_discounts == Decimal("20.00")
    assert order.total_tax == Decimal("0.00")
    assert order.financial_status == "voided"
    assert order.fulfillment_status == "unfulfilled"
    assert order.cancelled_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.shopify_updated_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.shipping_country_code == "US"
    assert order.customer_shopify_id == 115310627314723954
    lines = OrderLine.objects.for_shop(shop).filter(order=order).order_by("unit_price")
    assert [(line.sku, line.quantity, line.unit_price, line.currency) for line in lines] == [
        ("SKU2006-001", 1, Decimal("89.99"), "USD"),
        ("SKU2006-035", 1, Decimal("119.99"), "USD"),
        ("SKU2006-020", 1, Decimal("159.99"), "USD"),
    ]
    assert lines[0].product_id == 788032119674292922
    assert lines[0].variant_id is None
    customer = Customer.objects.for_shop(shop).get(shopify_id=115310627314723954)
    assert order.customer == customer
    assert customer.email == "john@example.com"
    assert customer.country_code == "CA"


# Everything that says who a shopper is or how to reach them (listed here, not imported from the
# code under test, so that a field the code forgets to blank fails these tests).
PERSONAL_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "phone",
    "tags",
    "city",
    "province",
    "province_code",
    "zip",
]


def deleted_shopper(shop: Shop) -> Customer:
    """The shop's one shopper, who must be on record as deleted with nothing personal left."""
    customer = Customer.objects.for_shop(shop).get()
    assert customer.deleted_at is not None
    assert {name: getattr(customer, name) for name in PERSONAL_FIELDS} == dict.fromkeys(PERSONAL_FIELDS, "")
    return customer


def _order_at(updated_at: str, **changes: object) -> dict[str, object]:
    body = payload("orders_create")
    body.update(updated_at=updated_at, **changes)
    return body


def test_an_older_orders_updated_after_a_newer_one_changes_nothing(shop: Shop, deliver: Deliver) -> None:
    # Given the newer state arrived first
    deliver(shop, "orders/updated", _order_at("2022-01-02T10:00:00-05:00", financial_status="refunded"))

    # When the older one arrives late
    response = deliver(
        shop, "orders/updated", _order_at("2022-01-02T09:00:00-05:00", financial_status="paid")
    )

    # Then it is acknowledged and done, and the order keeps the newer state
    assert response.status_code == 200
    assert WebhookEvent.objects.for_shop(shop).filter(status=EventStatus.DONE).count() == 2
    order = Order.objects.for_shop(shop).get()
    assert order.financial_status == "refunded"
    assert order.shopify_updated_at == datetime(2022, 1, 2, 15, 0, tzinfo=UTC)


def test_a_newer_orders_updated_replaces_state_and_lines(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    newer = _order_at("2022-01-03T00:00:00Z", financial_status="paid", fulfillment_status="fulfilled")
    newer["line_items"] = newer["line_items"][:1]  # type: ignore[index]

    deliver(shop, "orders/fulfilled", newer)

    order = Order.objects.for_shop(shop).get()
    assert (order.financial_status, order.fulfillment_status) == ("paid", "fulfilled")
    assert OrderLine.objects.for_shop(shop).filter(order=order).count() == 1


def test_every_order_topic_is_handled(shop: Shop, deliver: Deliver) -> None:
    for topic in ("orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"):
        deliver(shop, topic, payload("orders_create"))

    assert WebhookEvent.objects.for_shop(shop).filter(status=EventStatus.DONE).count() == 5
    assert Order.objects.for_shop(shop).count() == 1


def test_refunds_create_records_the_refund_and_its_lines_once(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"))

    deliver(shop, "refunds/create", payload("refunds_create"))
    deliver(shop, "refunds/create", payload("refunds_create"))  # a new event id: same refund

    refund = Refund.objects.for_shop(shop).get()
    assert refund.amount == Decimal("89.99")
    assert refund.currency == "USD"
    assert refund.order == Order.objects.for_shop(shop).get()
    line = RefundLine.objects.for_shop(shop).get()
    assert (line.line_item_shopify_id, line.quantity, line.subtotal) == (
        487817672276298554,
        1,
        Decimal("89.99"),
    )


def test_a_refund_before_its_order_is_linked_when_the_order_arrives(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "refunds/create", payload("refunds_create"))
    assert Refund.objects.for_shop(shop).get().order is None

    deliver(shop, "orders/create", payload("orders_create"))

    assert Refund.objects.for_shop(shop).get().order == Order.objects.for_shop(shop).get()


def test_customers_create_update_and_delete(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "customers/create", payload("customers_create"))
    customer = Customer.objects.for_shop(shop).get()
    assert (customer.email, customer.first_name, customer.last_name) == ("bob@biller.com", "Bob", "Biller")
    assert (customer.city, customer.province_code, customer.country_code) == ("Ottawa", "ON", "CA")
    assert customer.email_marketing_state == "subscribed"

    deliver(shop, "customers/update", payload("customers_update"))
    customer.refresh_from_db()
    assert customer.last_name == "Biller-Jones"
    assert customer.tags == "vip"

    # An older customers/update (the create payload again, as a late retry) changes nothing
    deliver(shop, "customers/update", payload("customers_create"))
    customer.refresh_from_db()
    assert customer.last_name == "Biller-Jones"

    deliver(shop, "customers/delete", payload("customers_delete"))
    deleted_shopper(shop)


def test_consent_changes_are_logged_with_source_and_time(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "customers/create", payload("customers_create"))

    deliver(
        shop, "customers_email_marketing_consent/update", payload("customers_email_marketing_consent_update")
    )
    deliver(
        shop, "customers_email_marketing_consent/update", payload("customers_email_marketing_consent_update")
    )

    log = list(ConsentLogEntry.objects.for_shop(shop).order_by("consent_updated_at"))
    assert [(entry.state, entry.source) for entry in log] == [
        ("subscribed", "webhook:customers/create"),
        ("unsubscribed", "webhook:customers_email_marketing_consent/update"),
    ]
    assert log[1].consent_updated_at == datetime(2022, 1, 6, 14, 30, tzinfo=UTC)
    assert all(entry.recorded_at is not None for entry in log)
    assert Customer.objects.for_shop(shop).get().email_marketing_state == "unsubscribed"


def test_inventory_levels_update_keeps_the_newest_level(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "inventory_levels/update", payload("inventory_levels_update"))
    older = payload("inventory_levels_update")
    older.update(available=99, updated_at="2021-12-30T00:00:00Z")

    deliver(shop, "inventory_levels/update", older)

    level = InventoryLevel.objects.for_shop(shop).get()
    assert (level.inventory_item_id, level.location_id, level.available) == (271878346596884015, 24826418, 6)


def test_app_uninstalled_marks_the_shop_uninstalled(shop: Shop, deliver: Deliver) -> None:
    response = deliver(shop, "app/uninstalled", payload("app_uninstalled"))

    assert response.status_code == 200
    shop.refresh_from_db()
    assert not shop.is_installed
    assert WebhookEvent.objects.for_shop(shop).get().status == EventStatus.DONE


def test_one_shop_s_webhooks_never_touch_another_shop(shop: Shop, other_shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "orders/create", payload("orders_create"))
    deliver(shop, "customers/create", payload("customers_create"))

    assert not Order.objects.for_shop(other_shop).exists()
    assert not Customer.objects.for_shop(other_shop).exists()
    assert not WebhookEvent.objects.for_shop(other_shop).exists()


def test_two_states_in_the_same_second_are_ordered_by_shopify_s_triggered_at(
    shop: Shop, deliver: Deliver
) -> None:
    # Given the later of two changes made within one second arrived first
    same_second = "2022-01-02T10:00:00Z"
    deliver(
        shop,
        "orders/updated",
        _order_at(same_second, financial_status="refunded"),
        headers={"X-Shopify-Triggered-At": "2022-01-02T10:00:00.900000000Z"},
    )

    # When the earlier change arrives late
    deliver(
        shop,
        "orders/fulfilled",
        _order_at(same_second, financial_status="paid"),
        headers={"X-Shopify-Triggered-At": "2022-01-02T10:00:00.100000000Z"},
    )

    # Then the later one stays
    assert Order.objects.for_shop(shop).get().financial_status == "refunded"

    # And a later emission in that same second does replace it
    deliver(
        shop,
        "orders/updated",
        _order_at(same_second, financial_status="partially_refunded"),
        headers={"X-Shopify-Triggered-At": "2022-01-02T10:00:00.950000000Z"},
    )
    assert Order.objects.for_shop(shop).get().financial_status == "partially_refunded"


def test_customers_delete_blanks_every_personal_field_and_keeps_the_country(
    shop: Shop, deliver: Deliver
) -> None:
    # Given a shopper with a name, tags and an address
    deliver(shop, "customers/update", payload("customers_update"))

    # When the merchant deletes them in Shopify
    deliver(shop, "customers/delete", payload("customers_delete"))

    # Then nothing that says who they are or how to reach them is left, but the country
    assert deleted_shopper(shop).country_code == "CA"


def test_a_customers_update_delivered_after_the_delete_restores_nothing(shop: Shop, deliver: Deliver) -> None:
    # Given a shopper deleted in Shopify
    deliver(shop, "customers/create", payload("customers_create"))
    deliver(shop, "customers/delete", payload("customers_delete"))

    # When an update made before the delete is delivered late (a retry), newer than what we hold
    deliver(shop, "customers/update", payload("customers_update"))

    # Then their personal data stays gone
    deleted_shopper(shop)
    assert WebhookEvent.objects.for_shop(shop).filter(status=EventStatus.DONE).count() == 3


def test_an_order_carrying_a_deleted_shopper_does_not_bring_them_back(shop: Shop, deliver: Deliver) -> None:
    body = payload("orders_create")
    deliver(shop, "customers/delete", {"id": body["customer"]["id"]})

    deliver(shop, "orders/create", body)

    assert Order.objects.for_shop(shop).get().customer == deleted_shopper(shop)


def test_a_customers_create_delivered_after_its_delete_stores_no_personal_data(
    shop: Shop, deliver: Deliver
) -> None:
    # Given the delete of a shopper we never heard of (their create is still being retried)
    deliver(shop, "customers/delete", payload("customers_delete"))

    # When the create arrives
    deliver(shop, "customers/create", payload("customers_create"))

    # Then the shopper is on record as deleted, with nothing personal
    deleted_shopper(shop)


def test_a_late_app_uninstalled_leaves_a_shop_that_installed_again_installed(
    shop: Shop, deliver: Deliver
) -> None:
    # Given the merchant uninstalled an hour ago and has just installed again
    an_hour_ago = timezone.now() - timedelta(hours=1)

    # When the uninstall's webhook is delivered only now (Shopify retried it)
    response = deliver(
        shop,
        "app/uninstalled",
        payload("app_uninstalled"),
        headers={"X-Shopify-Triggered-At": an_hour_ago.isoformat().replace("+00:00", "Z")},
    )

    # Then the shop stays installed, and the event says why it was ignored
    assert response.status_code == 200
    shop.refresh_from_db()
    assert shop.is_installed
    event = WebhookEvent.objects.for_shop(shop).get()
    assert event.status == EventStatus.IGNORED
    assert event.note == "shop installed again after this uninstall was emitted"


def test_a_late_app_uninstalled_without_triggered_at_is_judged_by_when_it_arrived(shop: Shop) -> None:
    # Given an app/uninstalled received (no X-Shopify-Triggered-At) before the shop installed again
    received = timezone.now() - timedelta(minutes=10)
    event = stored_event(
        shop, "app/uninstalled", payload("app_uninstalled"), received_at=received, available_at=received
    )

    webhook_event_process(event.pk)

    shop.refresh_from_db()
    assert shop.is_installed
    event.refresh_from_db()
    assert event.status == EventStatus.IGNORED


def test_an_app_uninstalled_emitted_after_the_install_uninstalls(shop: Shop) -> None:
    shop.installed_at = timezone.now() - timedelta(days=3)
    shop.save()
    event = stored_event(
        shop, "app/uninstalled", payload("app_uninstalled"), triggered_at=timezone.now() - timedelta(hours=1)
    )

    webhook_event_process(event.pk)

    shop.refresh_from_db()
    assert not shop.is_installed


# --- The catalog ------------------------------------------------------------------------------


def test_products_create_stores_the_product_its_variants_options_money_and_stock(
    shop: Shop, deliver: Deliver
) -> None:
    deliver(shop, "products/create", payload("products_create"))

    product = Product.objects.for_shop(shop).get(shopify_id=8123456789012)
    assert (product.title, product.handle, product.vendor, product.status) == (
        "Merino Crew",
        "merino-crew",
        "Omakase Knits",
        "active",
    )
    assert product.tag_list == ["knitwear", "merino", "winter"]
    assert product.image_url.startswith("https://cdn.shopify.com/")
    variants = Variant.objects.for_shop(shop).filter(product=product).order_by("position")
    assert [(v.sku, v.options, v.price, v.currency, v.available) for v in variants] == [
        ("MC-S-NAVY", {"Size": "S", "Color": "Navy"}, Decimal("98.00"), shop.currency, 4),
        ("MC-M-NAVY", {"Size": "M", "Color": "Navy"}, Decimal("98.00"), shop.currency, 0),
        ("MC-M-OAT", {"Size": "M", "Color": "Oatmeal"}, Decimal("98.00"), shop.currency, 7),
    ]
    assert variants[0].compare_at_price == Decimal("129.00")
    assert WebhookEvent.objects.for_shop(shop).get().status == EventStatus.DONE


def _product_at(updated_at: str, **changes: object) -> dict[str, object]:
    body = payload("products_create")
    body.update(updated_at=updated_at, **changes)
    return body


def test_an_older_products_update_after_a_newer_one_changes_nothing(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "products/update", _product_at("2026-09-02T10:00:00Z", title="Merino Crew II"))

    deliver(shop, "products/update", _product_at("2026-09-01T10:00:00Z", title="Merino Crew", variants=[]))

    assert Product.objects.for_shop(shop).get().title == "Merino Crew II"
    assert Variant.objects.for_shop(shop).count() == 3


def test_a_newer_products_update_replaces_the_variants(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "products/create", payload("products_create"))
    body = _product_at("2026-09-02T10:00:00Z", status="archived")
    body["variants"] = body["variants"][:1]  # type: ignore[index]

    deliver(shop, "products/update", body)

    assert Product.objects.for_shop(shop).get().status == "archived"
    assert list(Variant.objects.for_shop(shop).values_list("sku", flat=True)) == ["MC-S-NAVY"]


def test_products_delete_marks_the_product_deleted_and_a_late_update_restores_nothing(
    shop: Shop, deliver: Deliver
) -> None:
    deliver(shop, "products/create", payload("products_create"))

    deliver(shop, "products/delete", {"id": 8123456789012})
    deliver(shop, "products/update", _product_at("2026-09-03T10:00:00Z", title="Back"))

    product = Product.objects.for_shop(shop).get()
    assert product.deleted_at is not None
    assert product.title == "Merino Crew"
    assert not Variant.objects.for_shop(shop).exists()


def test_shopify_s_sample_products_update_and_delete_are_processed(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "products/update", payload("products_update"))
    deliver(shop, "products/delete", payload("products_delete"))

    assert Product.objects.for_shop(shop).get(shopify_id=788032119674292922).deleted_at is not None
    assert set(WebhookEvent.objects.for_shop(shop).values_list("status", flat=True)) == {EventStatus.DONE}


def test_a_malformed_product_fails_its_event_naming_the_field(shop: Shop, deliver: Deliver) -> None:
    body = payload("products_create")
    body["variants"][0]["price"] = "ninety-eight"

    deliver(shop, "products/create", body)

    event = WebhookEvent.objects.for_shop(shop).get()
    assert event.status == EventStatus.FAILED
    assert "variants[0].price: not an amount" in event.last_error
    assert not Product.objects.for_shop(shop).exists()


def test_inventory_levels_update_moves_the_stock_of_the_item_s_variant(shop: Shop, deliver: Deliver) -> None:
    deliver(shop, "products/create", payload("products_create"))
    level = payload("inventory_levels_update")
    level.update(inventory_item_id=46000000000002, available=3, updated_at="2026-09-01T12:00:00-04:00")

    deliver(shop, "inventory_levels/update", level)

    assert Variant.objects.for_shop(shop).get(sku="MC-M-NAVY").available == 3


@pytest.fixture
def shopify_collections(monkeypatch: pytest.MonkeyPatch) -> FakeShopify:
    """The Admin API the collection refresh task reads members from, holding one collection."""
    shopify = FakeShopify(
        collections=[
            collection_node("2021-12-31T19:00:00-05:00", id="gid://shopify/Collection/408372092144951419")
        ]
    )
    monkeypatch.setattr(commerce_reconcile, "admin_client_for_shop", lambda shop: shopify)
    return shopify


def test_collections_create_stores_the_collection_and_reads_its_members_after_commit(
    shop: Shop, deliver: Deliver, shopify_collections: FakeShopify
) -> None:
    deliver(shop, "collections/create", payload("collections_create"))

    collection = Collection.objects.for_shop(shop).get()
    assert (collection.shopify_id, collection.handle, collection.title) == (
        408372092144951419,
        "mynewcollection",
        "My New Collection",
    )
    assert [call["id"] for call in shopify_collections.calls_to("collection")] == [
        "gid://shopify/Collection/408372092144951419"
    ]
    assert list(CollectionMembership.objects.for_shop(shop).values_list("product_shopify_id", flat=True)) == [
        6001
    ]


def test_collections_delete_marks_it_deleted_and_a_late_update_reads_nothing(
    shop: Shop, deliver: Deliver, shopify_collections: FakeShopify
) -> None:
    deliver(shop, "collections/create", payload("collections_create"))

    deliver(shop, "collections/delete", payload("collections_delete"))
    deliver(shop, "collections/update", payload("collections_update"))

    assert Collection.objects.for_shop(shop).get().deleted_at is not None
    assert not CollectionMembership.objects.for_shop(shop).exists()
    assert len(shopify_collections.calls_to("collection")) == 1


def test_a_collection_whose_members_cannot_be_read_is_kept_for_reconciliation(
    shop: Shop, deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the shop's token is gone: the Admin API cannot be reached for it
    asked_for: list[int] = []

    def no_admin_api(for_shop: Shop) -> FakeShopify:
        asked_for.append(for_shop.pk)
        raise ShopNotAuthorized(f"{for_shop.domain} has no usable access token")

    monkeypatch.setattr(commerce_reconcile, "admin_client_for_shop", no_admin_api)

    deliver(shop, "collections/update", payload("collections_update"))

    # Then the members were asked for once, and the collection is stored with its members unread
    assert asked_for == [shop.pk]
    collection = Collection.objects.for_shop(shop).get()
    assert collection.members_updated_at is None
    assert WebhookEvent.objects.for_shop(shop).get().status == EventStatus.DONE


def test_catalog_webhooks_of_one_shop_never_touch_another(
    shop: Shop, other_shop: Shop, deliver: Deliver
) -> None:
    deliver(other_shop, "products/create", payload("products_create"))

    deliver(shop, "products/delete", {"id": 8123456789012})

    assert Product.objects.for_shop(other_shop).get().deleted_at is None
    assert Variant.objects.for_shop(other_shop).count() == 3
