"""The catalog, end to end: after install a real worker imports every product, variant and
collection devstore holds, with stock; then a product change, a stock change and a change of a
collection's members, made in devstore, reach the app through signed webhooks within seconds."""

import sqlite3
import subprocess
import time
from decimal import Decimal
from typing import Any

import pytest

from commerce.catalog import variants_buyable
from commerce.models import Backfill, Collection, CollectionMembership, Product, Variant
from shop_app.models import Shop
from tests.live import Devstore, install, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_environment(devstore_worker_environment: dict[str, str]) -> dict[str, str]:
    return devstore_worker_environment


def devstore_rows(devstore: Devstore, sql: str) -> list[Any]:
    """What devstore holds, read from its database (read-only), to compare ours with."""
    with sqlite3.connect(f"file:{devstore.db_path}?mode=ro", uri=True) as store:
        shop_id = store.execute("SELECT id FROM shops WHERE domain = ?", (devstore.shop,)).fetchone()[0]
        return store.execute(sql, {"shop": shop_id}).fetchall()


def store_catalog(devstore: Devstore) -> dict[str, Any]:
    return {
        "products": {
            product_id: (title, status.lower())
            for product_id, title, status in devstore_rows(
                devstore, "SELECT id, title, status FROM products WHERE shop_id = :shop"
            )
        },
        "variants": {
            variant_id: (product_id, sku, Decimal(price), available)
            for variant_id, product_id, sku, price, available in devstore_rows(
                devstore,
                "SELECT id, product_id, sku, price, inventory_quantity FROM variants WHERE shop_id = :shop",
            )
        },
        "collections": {
            collection_id: sorted(
                member
                for (member,) in devstore_rows(
                    devstore,
                    f"SELECT product_id FROM collection_products WHERE collection_id = {collection_id}",
                )
            )
            for (collection_id,) in devstore_rows(
                devstore, "SELECT id FROM collections WHERE shop_id = :shop"
            )
        },
    }


def app_catalog(shop: Shop) -> dict[str, Any]:
    products = Product.objects.for_shop(shop).filter(deleted_at__isnull=True)
    return {
        "products": {product.shopify_id: (product.title, product.status) for product in products},
        "variants": {
            variant.shopify_id: (variant.product.shopify_id, variant.sku, variant.price, variant.available)
            for variant in Variant.objects.for_shop(shop).select_related("product")
        },
        "collections": {
            collection.shopify_id: sorted(
                CollectionMembership.objects.for_shop(shop)
                .filter(collection=collection)
                .values_list("product_shopify_id", flat=True)
            )
            for collection in Collection.objects.for_shop(shop).filter(deleted_at__isnull=True)
        },
    }


def test_the_app_holds_the_store_s_whole_catalog_and_follows_its_changes(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str]
) -> None:
    # Given a store with a generated catalog, and a draft sweater in sizes S and M, M sold out
    devstore.seed(customers=2, orders=0)
    sweater = devstore.control(
        "POST",
        "/products",
        {
            "title": "Merino Crew",
            "product_type": "Knitwear",
            "vendor": "Omakase Knits",
            "tags": ["merino", "winter"],
            "status": "draft",
            "options": ["Size"],
            "variants": [
                {"price": "98.00", "sku": "MC-S", "inventory_quantity": 3, "options": {"Size": "S"}},
                {"price": "98.00", "sku": "MC-M", "inventory_quantity": 0, "options": {"Size": "M"}},
            ],
        },
    )["product"]
    medium = next(variant for variant in sweater["variants"] if variant["sku"] == "MC-M")
    knitwear = devstore.control("POST", "/collections", {"title": "Knitwear", "product_ids": []})[
        "collection"
    ]

    # When the merchant installs the app
    shop = install(devstore)

    def imported() -> Backfill | None:
        """the install's import finishes"""
        backfill = Backfill.objects.for_shop(shop).first()
        return backfill if backfill is not None and not backfill.is_active else None

    backfill = wait_for(imported, timeout=120, interval=0.5)

    # Then the app holds every product, variant and collection devstore has, with stock
    assert backfill.status == Backfill.Status.DONE, backfill.error
    expected = store_catalog(devstore)
    assert app_catalog(shop) == expected
    assert backfill.products_imported == len(expected["products"]) > 1
    assert backfill.collections_imported == len(expected["collections"]) > 1
    assert Variant.objects.for_shop(shop).get(shopify_id=medium["id"]).options == {"Size": "M"}
    assert variants_buyable(shop, [sweater["id"]], option_value="M") == {}

    # When, a second later (Shopify's times have one-second precision), the merchant publishes
    # the sweater, restocks size M and adds the sweater to a collection
    time.sleep(1.1)
    devstore.control("POST", f"/products/{sweater['id']}", {"title": "Merino Crew Neck", "status": "active"})
    devstore.control("POST", "/inventory", {"variant_id": medium["id"], "available": 6})
    devstore.control("POST", f"/collections/{knitwear['id']}/add", {"product_ids": [sweater["id"]]})

    # Then each change reaches the app within seconds
    def changes_arrived() -> bool:
        """the product change, the stock change and the new member reached the app"""
        product = Product.objects.for_shop(shop).get(shopify_id=sweater["id"])
        stocked = Variant.objects.for_shop(shop).get(shopify_id=medium["id"]).available == 6
        member = CollectionMembership.objects.for_shop(shop).filter(
            collection__shopify_id=knitwear["id"], product=product
        )
        return (
            product.title == "Merino Crew Neck" and product.status == "active" and stocked and member.exists()
        )

    wait_for(changes_arrived, timeout=30, interval=0.2)
    assert [
        variant.sku for variant in variants_buyable(shop, [sweater["id"]], option_value="M")[sweater["id"]]
    ] == ["MC-M"]
    # (The sweater's and the collection's create webhooks, sent before the install, were refused
    # and wait for devstore's retries: late and older, they change nothing.)
    assert app_catalog(shop) == store_catalog(devstore)
