from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from commerce.ingest import (
    collection_delete,
    collection_record_from_graphql,
    collection_record_from_webhook,
    collection_upsert,
    inventory_level_update,
    product_delete,
    product_record_from_graphql,
    product_upsert,
)
from commerce.models import Collection, CollectionMembership, InventoryLevel, Product, Variant
from commerce.privacy import commerce_erase_shop
from shop_app.models import Shop
from tests.commerce.catalog_nodes import collection_node, product_node, variant_node
from tests.webhooks.conftest import payload


def upsert(shop: Shop, node: dict[str, Any], triggered_at: datetime | None = None) -> Product:
    return product_upsert(shop, product_record_from_graphql(node, "USD"), triggered_at=triggered_at)


def stock(shop: Shop) -> dict[str, int | None]:
    """Each variant's available stock, by SKU."""
    return dict(Variant.objects.for_shop(shop).order_by("sku").values_list("sku", "available"))


def level(shop: Shop, item: int, location: int, available: int, at: str, **extra: Any) -> InventoryLevel:
    return inventory_level_update(
        shop,
        inventory_item_id=item,
        location_id=location,
        available=available,
        updated_at=datetime.fromisoformat(at),
        **extra,
    )


def test_a_product_is_stored_with_its_variants_options_money_and_stock(shop: Shop) -> None:
    upsert(shop, product_node())

    product = Product.objects.for_shop(shop).get()
    assert (product.shopify_id, product.title, product.status) == (6001, "Merino Crew", "active")
    assert product.tag_list == ["merino", "winter"]
    assert product.shopify_updated_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    small = Variant.objects.for_shop(shop).get(shopify_id=8001)
    assert small.product == product
    assert small.options == {"Size": "S", "Color": "Navy"}
    assert (small.price, small.compare_at_price, small.currency) == (
        Decimal("98.00"),
        Decimal("129.00"),
        "USD",
    )
    assert (small.inventory_item_id, small.available) == (9001, 5)
    assert small.available_updated_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_an_older_product_after_a_newer_one_changes_nothing(shop: Shop) -> None:
    upsert(shop, product_node("2026-01-05T11:00:00Z", title="Merino Crew II"))

    upsert(shop, product_node("2026-01-05T10:00:00Z", variants=[variant_node(3, "L")]))

    assert Product.objects.for_shop(shop).get().title == "Merino Crew II"
    assert sorted(Variant.objects.for_shop(shop).values_list("shopify_id", flat=True)) == [8001, 8002]


def test_the_same_product_twice_is_stored_once_and_unchanged(shop: Shop) -> None:
    upsert(shop, product_node())
    variant_pks = sorted(Variant.objects.for_shop(shop).values_list("pk", flat=True))

    upsert(shop, product_node())

    assert Product.objects.for_shop(shop).count() == 1
    assert sorted(Variant.objects.for_shop(shop).values_list("pk", flat=True)) == variant_pks


def test_a_newer_product_replaces_its_variants(shop: Shop) -> None:
    upsert(shop, product_node())
    kept_pk = Variant.objects.for_shop(shop).get(shopify_id=8002).pk

    newer = "2026-01-05T11:00:00Z"
    upsert(
        shop,
        product_node(
            newer, variants=[variant_node(2, "M", updated_at=newer, price="90.00"), variant_node(3, "L")]
        ),
    )

    variants = Variant.objects.for_shop(shop).order_by("shopify_id")
    assert [(v.shopify_id, v.price) for v in variants] == [(8002, Decimal("90.00")), (8003, Decimal("98.00"))]
    assert variants[0].pk == kept_pk


def test_two_states_in_the_same_second_are_ordered_by_shopify_s_triggered_at(shop: Shop) -> None:
    second = datetime(2026, 1, 5, 10, 0, 0, 500000, tzinfo=UTC)
    upsert(shop, product_node(title="later"), triggered_at=second)

    upsert(shop, product_node(title="earlier"), triggered_at=second - timedelta(milliseconds=200))
    assert Product.objects.for_shop(shop).get().title == "later"

    upsert(shop, product_node(title="latest"), triggered_at=second + timedelta(milliseconds=200))
    assert Product.objects.for_shop(shop).get().title == "latest"


def test_a_deleted_product_loses_its_variants_and_memberships_and_stays_deleted(shop: Shop) -> None:
    upsert(shop, product_node())
    collection_upsert(shop, collection_record_from_graphql(collection_node()))

    product_delete(shop, 6001)
    upsert(shop, product_node("2026-01-06T10:00:00Z", title="back from the dead"))

    product = Product.objects.for_shop(shop).get()
    assert product.deleted_at is not None
    assert product.title == "Merino Crew"
    assert not Variant.objects.for_shop(shop).exists()
    assert not CollectionMembership.objects.for_shop(shop).exists()


def test_a_delete_before_the_create_keeps_the_late_create_out(shop: Shop) -> None:
    product_delete(shop, 6001)
    product_delete(shop, 6001)

    upsert(shop, product_node())

    assert Product.objects.for_shop(shop).get().deleted_at is not None
    assert not Variant.objects.for_shop(shop).exists()


def test_a_stock_level_moves_the_variant_of_its_item(shop: Shop) -> None:
    upsert(shop, product_node())

    level(shop, 9002, 1, 0, "2026-01-05T12:00:00+00:00")

    assert stock(shop) == {"CREW-M-NAVY": 0, "CREW-S-NAVY": 5}


def test_the_variant_sums_the_levels_of_every_location_we_know(shop: Shop) -> None:
    upsert(shop, product_node())

    level(shop, 9001, 1, 3, "2026-01-05T12:00:00+00:00")
    level(shop, 9001, 2, 4, "2026-01-05T12:05:00+00:00")
    level(shop, 9001, 1, 1, "2026-01-05T12:10:00+00:00")

    assert stock(shop)["CREW-S-NAVY"] == 5
    variant = Variant.objects.for_shop(shop).get(shopify_id=8001)
    assert variant.available_updated_at == datetime(2026, 1, 5, 12, 10, tzinfo=UTC)


def test_an_older_level_changes_neither_the_level_nor_the_variant(shop: Shop) -> None:
    upsert(shop, product_node())
    level(shop, 9001, 1, 2, "2026-01-05T12:00:00+00:00")

    level(shop, 9001, 1, 9, "2026-01-05T11:00:00+00:00")
    level(shop, 9001, 1, 9, "2026-01-05T12:00:00+00:00")

    assert InventoryLevel.objects.for_shop(shop).get().available == 2
    assert stock(shop)["CREW-S-NAVY"] == 2


def test_two_levels_in_the_same_second_are_ordered_by_shopify_s_triggered_at(shop: Shop) -> None:
    upsert(shop, product_node())
    second = datetime(2026, 1, 5, 12, 0, 0, 500000, tzinfo=UTC)
    level(shop, 9001, 1, 4, "2026-01-05T12:00:00+00:00", triggered_at=second)

    level(shop, 9001, 1, 3, "2026-01-05T12:00:00+00:00", triggered_at=second + timedelta(milliseconds=1))

    assert stock(shop)["CREW-S-NAVY"] == 3


def test_a_level_older_than_the_product_s_stock_does_not_overwrite_it(shop: Shop) -> None:
    # Given the product told us the stock as of 12:00
    upsert(shop, product_node("2026-01-05T12:00:00Z"))

    # When a level from 11:00 arrives late
    level(shop, 9001, 1, 0, "2026-01-05T11:00:00+00:00")

    # Then the level is kept, and the variant keeps the newer total
    assert InventoryLevel.objects.for_shop(shop).get().available == 0
    assert stock(shop)["CREW-S-NAVY"] == 5


def test_a_product_newer_than_the_levels_sets_the_stock_and_an_older_one_does_not(shop: Shop) -> None:
    upsert(shop, product_node())
    level(shop, 9001, 1, 1, "2026-01-05T12:00:00+00:00")

    # A products/update for a title change, its variant unchanged since before the level
    upsert(
        shop,
        product_node(
            "2026-01-05T13:00:00Z",
            title="Renamed",
            variants=[variant_node(1, "S", available=5), variant_node(2, "M", available=5)],
        ),
    )
    assert stock(shop)["CREW-S-NAVY"] == 1

    # A product whose variant changed after the level
    upsert(
        shop,
        product_node(
            "2026-01-05T14:00:00Z",
            variants=[
                variant_node(1, "S", available=8, updated_at="2026-01-05T14:00:00Z"),
                variant_node(2, "M", available=5),
            ],
        ),
    )
    assert stock(shop)["CREW-S-NAVY"] == 8


def test_levels_that_arrive_before_their_product_give_it_its_stock(shop: Shop) -> None:
    level(shop, 9002, 1, 0, "2026-01-05T12:00:00+00:00")

    upsert(shop, product_node())

    assert stock(shop) == {"CREW-M-NAVY": 0, "CREW-S-NAVY": 5}


def test_a_collection_holds_its_members_and_links_products_that_arrive_later(shop: Shop) -> None:
    collection_upsert(shop, collection_record_from_graphql(collection_node(product_ids=(6001, 6002))))

    upsert(shop, product_node())

    collection = Collection.objects.for_shop(shop).get()
    assert (collection.handle, collection.title) == ("winter", "Winter")
    members = CollectionMembership.objects.for_shop(shop).filter(collection=collection)
    assert sorted(members.values_list("product_shopify_id", flat=True)) == [6001, 6002]
    assert members.get(product_shopify_id=6001).product == Product.objects.for_shop(shop).get()
    assert members.get(product_shopify_id=6002).product is None


def test_newer_members_replace_the_members_and_older_ones_do_not(shop: Shop) -> None:
    upsert(shop, product_node())
    collection_upsert(shop, collection_record_from_graphql(collection_node(product_ids=(6001, 6002))))

    collection_upsert(shop, collection_record_from_graphql(collection_node("2026-01-05T11:00:00Z", (6003,))))
    collection_upsert(shop, collection_record_from_graphql(collection_node("2026-01-05T10:30:00Z", (6001,))))

    members = CollectionMembership.objects.for_shop(shop)
    assert list(members.values_list("product_shopify_id", flat=True)) == [6003]


def test_a_collection_webhook_changes_its_title_and_keeps_its_members(shop: Shop) -> None:
    collection_upsert(shop, collection_record_from_graphql(collection_node("2020-01-01T00:00:00Z")))
    body = payload("collections_update")

    collection_upsert(shop, collection_record_from_webhook({**body, "id": 7001}))

    collection = Collection.objects.for_shop(shop).get()
    assert collection.title == "My New Collection"
    assert CollectionMembership.objects.for_shop(shop).filter(collection=collection).count() == 1


def test_a_deleted_collection_loses_its_members_and_stays_deleted(shop: Shop) -> None:
    collection_upsert(shop, collection_record_from_graphql(collection_node()))

    collection_delete(shop, 7001)
    collection_upsert(shop, collection_record_from_graphql(collection_node("2026-02-01T00:00:00Z")))

    assert Collection.objects.for_shop(shop).get().deleted_at is not None
    assert not CollectionMembership.objects.for_shop(shop).exists()


def test_one_shop_s_catalog_never_touches_another_s(shop: Shop, other_shop: Shop) -> None:
    upsert(other_shop, product_node())
    level(other_shop, 9001, 1, 0, "2026-01-05T12:00:00+00:00")

    upsert(shop, product_node())
    level(shop, 9001, 1, 2, "2026-01-05T12:00:00+00:00")
    product_delete(shop, 6001)

    assert Product.objects.for_shop(other_shop).get().deleted_at is None
    assert stock(other_shop) == {"CREW-M-NAVY": 5, "CREW-S-NAVY": 0}


def test_erasing_the_shop_deletes_its_catalog_and_nothing_of_another_shop(
    shop: Shop, other_shop: Shop
) -> None:
    for owner in (shop, other_shop):
        upsert(owner, product_node())
        collection_upsert(owner, collection_record_from_graphql(collection_node()))
        level(owner, 9001, 1, 2, "2026-01-05T12:00:00+00:00")

    counts = commerce_erase_shop(shop)

    assert (counts["product"], counts["variant"], counts["collection"], counts["collectionmembership"]) == (
        1,
        2,
        1,
        1,
    )
    for model in (Product, Variant, Collection, CollectionMembership, InventoryLevel):
        assert not model.objects.for_shop(shop).exists()
        assert model.objects.for_shop(other_shop).exists()


def test_a_tag_is_found_exactly_on_any_database_by_the_commas_around_it(shop: Shop) -> None:
    upsert(shop, product_node(tags=["Winter", "wool coat"]))

    tagged = Product.objects.for_shop(shop)

    assert tagged.filter(tags__icontains=",winter,").exists()
    assert tagged.filter(tags__icontains=",wool coat,").exists()
    assert not tagged.filter(tags__icontains=",wool,").exists()
    assert tagged.get().tag_list == ["Winter", "wool coat"]
