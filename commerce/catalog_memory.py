"""The catalog in each process's memory, for serving.

A storefront block weighs a few hundred candidate products with their variants on every request;
reading them from the database each time cost more than the rest of the request together (about
25 ms of 30 on a shop of 5,000 products). So each process keeps, per shop, the catalog as it read
it, until the catalog changes:

- every writer of products and variants calls `catalog_changed`: commerce.ingest's (webhooks, the
  backfill, reconciliation) and any Product or Variant saved through the ORM (commerce.apps
  connects the signal). It forgets this process's copy at once and, when the transaction commits,
  moves `Shop.catalog_version` on;
- a reader passes the shop it holds. A storefront request reads its shop anyway (the app proxy's
  door), so comparing versions costs nothing, and a copy older than the shop's version is read
  again: another process's change is seen from the first request after its commit.

The copy is plain frozen data (no model instances): every product not deleted, whatever its status
(a reason may name an archived product), and each one's variants in Shopify's order. Callers keep
what they derive from it in `derived`, which goes with the copy. At most `CATALOG_MEMORY_SHOPS`
shops are held per process, the least recently used forgotten first.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from commerce.models import Product, Variant
from shop_app.models import Shop

CATALOG_MEMORY_SHOPS = 16


@dataclass(frozen=True, slots=True)
class ServedProduct:
    """A product as serving reads it (the fields of commerce.models.Product it needs)."""

    shopify_id: int
    title: str
    handle: str
    product_type: str
    vendor: str
    tags: str
    status: str
    image_url: str

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    @property
    def is_active(self) -> bool:
        return self.status == Product.Status.ACTIVE


@dataclass(frozen=True, slots=True)
class ServedVariant:
    """A variant as serving reads it (the fields of commerce.models.Variant it needs)."""

    shopify_id: int
    title: str
    options: dict[str, Any]
    price: Decimal
    currency: str
    available: int | None
    available_updated_at: datetime | None


@dataclass(frozen=True)
class CatalogMemory:
    # (shop's row, when it was made, catalog version): a shop's row id may come back on SQLite.
    key: tuple[int, datetime, int]
    products: dict[int, ServedProduct]
    # By the product's Shopify id; a product without variants has none here.
    variants: dict[int, tuple[ServedVariant, ...]]
    derived: dict[str, Any] = field(default_factory=dict)


_held: OrderedDict[int, CatalogMemory] = OrderedDict()
_lock = threading.Lock()


def catalog_memory(shop: Shop) -> CatalogMemory:
    """The shop's catalog as of `shop.catalog_version` (or newer), from this process's memory when
    it holds that version, else read (two queries) and kept."""
    key = (shop.pk, shop.created_at, shop.catalog_version)
    with _lock:
        held = _held.get(shop.pk)
        if held is not None and held.key == key:
            _held.move_to_end(shop.pk)
            return held
    memory = _catalog_read(shop, key)
    with _lock:
        _held[shop.pk] = memory
        _held.move_to_end(shop.pk)
        while len(_held) > CATALOG_MEMORY_SHOPS:
            _held.popitem(last=False)
    return memory


def catalog_changed(shop_id: int) -> None:
    """Products or variants of the shop changed in this transaction: this process forgets its copy
    now, every process once the change is committed."""
    with _lock:
        _held.pop(shop_id, None)
    connection = transaction.get_connection()
    # Once per shop and transaction: a writer may call this for the product and again for its
    # variants. (Callbacks of a rolled-back savepoint leave Django's list with it.)
    if any(getattr(entry[1], "catalog_shop_id", None) == shop_id for entry in connection.run_on_commit):
        return
    move_on = functools.partial(_version_move_on, shop_id)
    move_on.catalog_shop_id = shop_id  # type: ignore[attr-defined]
    transaction.on_commit(move_on)


def _version_move_on(shop_id: int) -> None:
    with _lock:
        _held.pop(shop_id, None)
    Shop.objects.filter(pk=shop_id).update(catalog_version=F("catalog_version") + 1)


def _catalog_read(shop: Shop, key: tuple[int, datetime, int]) -> CatalogMemory:
    products = {
        row[0]: ServedProduct(*row)
        for row in Product.objects.for_shop(shop)
        .filter(deleted_at__isnull=True)
        .values_list("shopify_id", "title", "handle", "product_type", "vendor", "tags", "status", "image_url")
    }
    variants: dict[int, list[ServedVariant]] = {}
    for product_id, *values in (
        Variant.objects.for_shop(shop)
        .filter(product__deleted_at__isnull=True)
        .order_by("product_id", "position", "shopify_id")
        .values_list(
            "product__shopify_id",
            "shopify_id",
            "title",
            "options",
            "price",
            "currency",
            "available",
            "available_updated_at",
        )
    ):
        variants.setdefault(product_id, []).append(ServedVariant(*values))
    return CatalogMemory(
        key=key,
        products=products,
        variants={product_id: tuple(found) for product_id, found in variants.items()},
    )
