"""Shoppers' orders as arrays, read set-based: one query per table for a whole chunk of shoppers,
times and money converted by the database (seconds since the epoch, integer cents), so building
profiles never walks orders one by one in Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import BigIntegerField, F, FloatField, Func, Q, Sum
from django.db.models.functions import Cast, Round

from commerce.models import (
    CollectionMembership,
    Customer,
    Order,
    OrderLine,
    Product,
    Refund,
    RefundLine,
    Variant,
)
from personalize.profiles import History, ProductTraits
from shop_app.models import Shop

# The option names that carry a size, compared in lower case.
SIZE_OPTION_NAMES = frozenset({"size", "サイズ", "taille", "größe", "talla"})


class Epoch(Func):
    """Seconds since 1970-01-01 UTC of a timestamp, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="CAST(unixepoch(%(expressions)s, 'subsec') AS REAL)", **extra
        )


def cents(field: str) -> Cast:
    return Cast(Round(F(field) * 100), BigIntegerField())


@dataclass(frozen=True)
class Catalog:
    """What profiles need of the shop's catalog: each product's traits and each variant's size."""

    products: dict[int, ProductTraits]
    variant_sizes: dict[int, str]

    @classmethod
    def load(cls, shop: Shop, product_ids: Iterable[int] | None = None) -> Catalog:
        """The whole catalog, or only these products (Shopify ids). Three queries."""
        products = Product.objects.for_shop(shop)
        variants = Variant.objects.for_shop(shop)
        memberships = CollectionMembership.objects.for_shop(shop).filter(collection__deleted_at__isnull=True)
        if product_ids is not None:
            wanted = list(product_ids)
            products = products.filter(shopify_id__in=wanted)
            variants = variants.filter(product__shopify_id__in=wanted)
            memberships = memberships.filter(product_shopify_id__in=wanted)
        collections: dict[int, list[str]] = {}
        for product_id, handle in memberships.values_list("product_shopify_id", "collection__handle"):
            collections.setdefault(product_id, []).append(handle)
        traits = {
            product_id: ProductTraits(
                product_type=product_type,
                vendor=vendor,
                tags=tuple(tag.strip() for tag in tags.split(",") if tag.strip()),
                collections=tuple(sorted(collections.get(product_id, ()))),
            )
            for product_id, product_type, vendor, tags in products.values_list(
                "shopify_id", "product_type", "vendor", "tags"
            )
        }
        sizes = {}
        for variant_id, options in variants.values_list("shopify_id", "options"):
            size = variant_size(options)
            if size:
                sizes[variant_id] = size
        return cls(products=traits, variant_sizes=sizes)


def variant_size(options: dict[str, Any] | None) -> str:
    for name, value in (options or {}).items():
        if str(name).strip().lower() in SIZE_OPTION_NAMES and value:
            return str(value)
    return ""


def catalog_prices_cents(shop: Shop) -> list[int]:
    """The prices of the shop's variants of active products, in cents (for the price bands)."""
    return list(
        Variant.objects.for_shop(shop)
        .filter(product__status=Product.Status.ACTIVE, product__deleted_at__isnull=True)
        .values_list(cents("price"), flat=True)
    )


@dataclass(frozen=True)
class Shoppers:
    """Which shoppers to read, by Shopify id: from `low` to `high`, both included (None: no bound).
    Chunks of the full recompute are ranges; one shopper is a range of one."""

    low: int | None = None
    high: int | None = None

    @classmethod
    def one(cls, customer_shopify_id: int) -> Shoppers:
        return cls(customer_shopify_id, customer_shopify_id)

    def on(self, field: str) -> Q:
        """The selection as a filter on the model field holding the shopper's Shopify id."""
        selection = Q(**{f"{field}__isnull": False})
        if self.low is not None:
            selection &= Q(**{f"{field}__gte": self.low})
        if self.high is not None:
            selection &= Q(**{f"{field}__lte": self.high})
        return selection


def history_load(
    shop: Shop, shoppers: Shoppers, catalog: Catalog, *, include: Iterable[int] = (), lines: bool = True
) -> History:
    """The orders (not cancelled) and lines of the shoppers selected, plus the shoppers in
    `include` and the customers selected even with no order. Five queries; two without the lines
    (and then only buyers)."""
    orders = Order.objects.for_shop(shop).filter(
        shoppers.on("customer_shopify_id"), cancelled_at__isnull=True
    )
    order_rows = list(
        orders.order_by("pk").values_list(
            "pk",
            "shopify_id",
            "customer_shopify_id",
            Epoch("shopify_created_at"),
            cents("total_price"),
            "shipping_country_code",
        )
    )
    order_pk = np.fromiter((row[0] for row in order_rows), dtype=np.int64, count=len(order_rows))
    refunded = np.zeros(len(order_rows), dtype=np.int64)
    for order_id, amount in (
        Refund.objects.for_shop(shop)
        .filter(order__in=orders)
        .values("order_id")
        .annotate(total=cents_sum("amount"))
        .values_list("order_id", "total")
    ):
        refunded[np.searchsorted(order_pk, order_id)] += amount or 0

    customer_rows = (
        list(
            Customer.objects.for_shop(shop)
            .filter(shoppers.on("shopify_id"), deleted_at__isnull=True, redacted_at__isnull=True)
            .values_list("shopify_id", "country_code", "province_code")
        )
        if lines
        else []
    )
    customer_ids = np.unique(
        np.concatenate(
            [
                np.fromiter((row[2] for row in order_rows), dtype=np.int64, count=len(order_rows)),
                np.fromiter((row[0] for row in customer_rows), dtype=np.int64, count=len(customer_rows)),
                np.fromiter(include, dtype=np.int64),
            ]
        )
    )
    order_customer = np.searchsorted(
        customer_ids, np.fromiter((row[2] for row in order_rows), dtype=np.int64, count=len(order_rows))
    ).astype(np.int64)
    order_time = np.fromiter((row[3] for row in order_rows), dtype=np.float64, count=len(order_rows))
    orders_part: dict[str, Any] = {
        "customers": customer_ids,
        "order_customer": order_customer,
        "order_id": np.fromiter((row[1] for row in order_rows), dtype=np.int64, count=len(order_rows)),
        "order_time": order_time,
        "order_cents": np.fromiter((row[4] for row in order_rows), dtype=np.int64, count=len(order_rows))
        - refunded,
        "order_country": [row[5] for row in order_rows],
    }
    if not lines:
        empty = np.zeros(0, dtype=np.int64)
        return History(
            **orders_part,
            line_customer=empty,
            line_order_id=empty,
            line_time=np.zeros(0),
            line_product=empty,
            line_kept=empty,
            line_unit_cents=empty,
            line_size=[],
        )

    refunded_units = dict(
        RefundLine.objects.for_shop(shop)
        .filter(refund__order__in=orders)
        .values("line_item_shopify_id")
        .annotate(units=Sum("quantity"))
        .values_list("line_item_shopify_id", "units")
    )
    line_rows = list(
        OrderLine.objects.for_shop(shop)
        .filter(order__in=orders)
        .values_list("order_id", "shopify_id", "product_id", "variant_id", "quantity", cents("unit_price"))
    )
    line_order = np.searchsorted(
        order_pk, np.fromiter((row[0] for row in line_rows), dtype=np.int64, count=len(line_rows))
    )
    return History(
        **orders_part,
        line_customer=order_customer[line_order],
        line_order_id=orders_part["order_id"][line_order],
        line_time=order_time[line_order],
        line_product=np.fromiter((row[2] or 0 for row in line_rows), dtype=np.int64, count=len(line_rows)),
        line_kept=np.fromiter(
            (row[4] - (refunded_units.get(row[1]) or 0) for row in line_rows),
            dtype=np.int64,
            count=len(line_rows),
        ),
        line_unit_cents=np.fromiter((row[5] for row in line_rows), dtype=np.int64, count=len(line_rows)),
        line_size=[catalog.variant_sizes.get(row[3] or 0, "") for row in line_rows],
        products=catalog.products,
        addresses={row[0]: (row[1], row[2]) for row in customer_rows},
    )


def cents_sum(field: str) -> Cast:
    return Cast(Round(Sum(field) * 100), BigIntegerField())
