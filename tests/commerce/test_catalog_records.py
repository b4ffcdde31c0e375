from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from commerce.ingest import (
    IngestError,
    Money,
    collection_record_from_graphql,
    collection_record_from_webhook,
    product_record_from_graphql,
    product_record_from_webhook,
)
from tests.commerce.catalog_nodes import collection_node, product_node, variant_node
from tests.webhooks.conftest import payload


def test_a_products_create_payload_reads_options_by_name_money_stock_and_image() -> None:
    record = product_record_from_webhook(payload("products_create"), "USD")

    assert record.shopify_id == 8123456789012
    assert (record.title, record.handle, record.product_type, record.vendor) == (
        "Merino Crew",
        "merino-crew",
        "Knitwear",
        "Omakase Knits",
    )
    assert record.tags == ("knitwear", "merino", "winter")
    assert record.status == "active"
    assert record.image_url.startswith(
        "https://cdn.shopify.com/s/files/1/0000/0001/products/merino-crew-navy.jpg"
    )
    assert record.updated_at == datetime(2026, 9, 1, 14, 0, tzinfo=UTC)
    first, second, third = record.variants
    assert first.options == {"Size": "S", "Color": "Navy"}
    assert third.options == {"Size": "M", "Color": "Oatmeal"}
    assert first.price == Money(Decimal("98.00"), "USD")
    assert first.compare_at_price == Money(Decimal("129.00"), "USD")
    assert second.compare_at_price is None
    assert (first.sku, first.inventory_item_id, first.inventory_quantity) == ("MC-S-NAVY", 46000000000001, 4)
    assert [variant.position for variant in record.variants] == [1, 2, 3]


def test_shopify_s_own_sample_without_option_names_keeps_the_option_field_s_name() -> None:
    # Shopify's published products/update sample has "options": [], no image and no inventory item
    record = product_record_from_webhook(payload("products_update"), "USD")

    small, medium = record.variants
    assert small.options == {"option1": "Small"}
    assert small.inventory_item_id is None
    assert (small.inventory_quantity, medium.inventory_quantity) == (75, 50)
    assert small.updated_at == datetime(2021, 12, 31, 0, 0, tzinfo=UTC)
    assert record.image_url == ""
    assert record.created_at is None


def test_a_graphql_product_node_reads_the_same_way() -> None:
    record = product_record_from_graphql(product_node(), "JPY")

    assert record.shopify_id == 6001
    assert record.status == "active"
    assert record.tags == ("merino", "winter")
    assert record.image_url == "https://cdn.example/merino-crew.jpg"
    small, medium = record.variants
    assert small.shopify_id == 8001
    assert small.options == {"Size": "S", "Color": "Navy"}
    assert small.price == Money(Decimal("98.00"), "JPY")
    assert small.compare_at_price == Money(Decimal("129.00"), "JPY")
    assert medium.compare_at_price is None
    assert (small.inventory_item_id, small.inventory_quantity) == (9001, 5)


def test_a_graphql_product_from_bulk_jsonl_has_its_variants_as_edges() -> None:
    node = product_node()
    node["variants"] = {"edges": [{"node": variant} for variant in node["variants"]["nodes"]]}

    assert product_record_from_graphql(node, "USD") == product_record_from_graphql(product_node(), "USD")


def test_the_older_featured_image_is_read_when_there_is_no_featured_media() -> None:
    node = product_node(featuredMedia=None, featuredImage={"url": "https://cdn.example/old.jpg"})

    assert product_record_from_graphql(node, "USD").image_url == "https://cdn.example/old.jpg"


def test_collections_from_a_webhook_carry_no_members_and_from_graphql_their_products() -> None:
    from_webhook = collection_record_from_webhook(payload("collections_update"))
    from_graphql = collection_record_from_graphql(collection_node(product_ids=(6001, 6002)))

    assert (from_webhook.shopify_id, from_webhook.handle, from_webhook.title) == (
        408372092144951419,
        "mynewcollection",
        "My New Collection",
    )
    assert from_webhook.product_ids is None
    assert from_graphql.product_ids == (6001, 6002)
    assert from_graphql.updated_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _variant_changed(**changes: Any) -> dict[str, Any]:
    return product_node(variants=[variant_node(1, "S", **changes)])


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: product_record_from_webhook({"title": "no id"}, "USD"), "product.id: missing"),
        (lambda: product_record_from_webhook({"id": 1}, "USD"), "product.updated_at: missing"),
        (
            lambda: product_record_from_webhook(
                {"id": 1, "updated_at": "2026-01-01T00:00:00Z", "variants": [{"id": 2}]}, "USD"
            ),
            r"variants\[0\].price: missing",
        ),
        (lambda: product_record_from_graphql(_variant_changed(price=None), "USD"), r"variants\[0\].price"),
        (
            lambda: product_record_from_graphql(_variant_changed(inventoryQuantity="many"), "USD"),
            r"variants\[0\].inventoryQuantity: not an integer",
        ),
        (
            lambda: product_record_from_graphql(_variant_changed(selectedOptions=[{"value": "M"}]), "USD"),
            r"variants\[0\].selectedOptions\[0\].name: missing",
        ),
        (lambda: product_record_from_graphql(product_node(updatedAt="soon"), "USD"), "product.updatedAt"),
        (lambda: product_record_from_graphql(["not", "a", "node"], "USD"), "product"),
        (lambda: collection_record_from_webhook({"handle": "x"}), "collection.id: missing"),
        (
            lambda: collection_record_from_graphql(collection_node(products={"nodes": [{"title": "x"}]})),
            r"products\[0\].id: missing",
        ),
    ],
)
def test_malformed_catalog_data_is_an_ingest_error_naming_the_field(read: Any, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read()


def test_a_malformed_shape_nobody_foresaw_names_what_was_read_not_the_data() -> None:
    # A variant that is a string where an object belongs: the adapter's reader breaks where no
    # check foresaw it, and the error names the product, never quoting the data.
    body = payload("products_create")
    body["variants"] = ["secret-sku-value"]

    with pytest.raises(IngestError) as raised:
        product_record_from_webhook(body, "USD")

    assert str(raised.value) == "product: malformed (AttributeError)"
