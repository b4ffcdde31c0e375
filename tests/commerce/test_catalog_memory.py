"""The catalog each process holds in memory for serving (commerce.catalog_memory): kept while the
catalog stays the same, forgotten at once by the process that changes it, and read again by every
other process from its first request after the change is committed."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import F

from commerce.catalog_memory import catalog_memory
from commerce.ingest import (
    inventory_level_update,
    product_delete,
    product_record_from_graphql,
    product_upsert,
)
from commerce.models import Product
from shop_app.models import Shop
from tests.commerce.catalog_nodes import product_node

PRODUCT_ID = 6001  # catalog_nodes.PRODUCT_GID


def shop_as_read_now(shop: Shop) -> Shop:
    """The shop as a new request reads it (the app proxy's door reads it on every request)."""
    return Shop.objects.get(pk=shop.pk)


def upsert(shop: Shop, **changes: Any) -> None:
    product_upsert(shop, product_record_from_graphql(product_node(**changes), "USD"))


def test_the_copy_is_kept_while_the_catalog_stays_the_same(
    shop: Shop, django_assert_num_queries: Any
) -> None:
    upsert(shop)
    first = catalog_memory(shop)

    with django_assert_num_queries(0):
        again = catalog_memory(shop)

    assert again is first
    assert first.products[PRODUCT_ID].title == "Merino Crew"
    assert [variant.options["Size"] for variant in first.variants[PRODUCT_ID]] == ["S", "M"]


def test_the_process_that_changes_the_catalog_reads_its_change_at_once(shop: Shop) -> None:
    upsert(shop)
    assert catalog_memory(shop).variants[PRODUCT_ID][0].available == 5

    # Stock of the small one's item goes to zero (an inventory_levels/update)
    inventory_level_update(
        shop, inventory_item_id=9001, location_id=1, available=0, updated_at=datetime(2026, 1, 6, tzinfo=UTC)
    )

    assert catalog_memory(shop).variants[PRODUCT_ID][0].available == 0
    product_delete(shop, PRODUCT_ID)
    assert PRODUCT_ID not in catalog_memory(shop).products


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_moves_the_version_on_once_per_transaction_of_a_writer(shop: Shop) -> None:
    before = shop_as_read_now(shop).catalog_version

    upsert(shop)
    upsert(shop, updated_at="2026-02-01T10:00:00Z", title="Merino Crew Neck")

    assert shop_as_read_now(shop).catalog_version == before + 2


@pytest.mark.django_db(transaction=True)
def test_another_processs_change_is_read_from_the_first_request_after_its_commit(shop: Shop) -> None:
    upsert(shop)
    held = catalog_memory(shop_as_read_now(shop))

    # Another process renames the product: this process's memory is not told, the shop's row is
    Product.objects.for_shop(shop).update(title="Merino Crew Neck")
    assert catalog_memory(shop_as_read_now(shop)) is held
    Shop.objects.filter(pk=shop.pk).update(catalog_version=F("catalog_version") + 1)

    assert catalog_memory(shop_as_read_now(shop)).products[PRODUCT_ID].title == "Merino Crew Neck"
