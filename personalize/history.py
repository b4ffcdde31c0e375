"""Shoppers' orders as arrays, read set-based: one query per table for a whole chunk of shoppers,
times and money converted by the database (seconds since the epoch, integer cents), and the columns
turned into NumPy arrays in bulk (`columns_read`: on PostgreSQL one binary COPY that NumPy reads in
place), so building profiles never walks orders one by one in Python."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connections
from django.db.models import BigIntegerField, BinaryField, BooleanField, F, FloatField, Func, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, Round

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
from personalize.profiles import Floats, History, Ints, ProductTraits, distinct
from shop_app.models import Shop

# Up to this many orders, their lines and refunds are read by the orders' pks (`_of_orders`).
AMONG_VALUES_MAX = 10_000
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
        # To the millisecond, as unixepoch(..., 'subsec') would: that needs SQLite 3.42 and
        # answers NULL before it.
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400000.0) / 1000.0",
            **extra,
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

    def sizes_of(self, variant_ids: Ints) -> npt.NDArray[np.str_]:
        """The size of each variant ("" for a variant with none, or unknown)."""
        known = np.fromiter(self.variant_sizes, dtype=np.int64, count=len(self.variant_sizes))
        sizes = np.array(list(self.variant_sizes.values()), dtype=str)
        return _looked_up(variant_ids, known, sizes, "")


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
    """Which shoppers to read, by Shopify id: from `low` to `high`, both included (None: no bound),
    or exactly `ids`. Chunks of the full recompute are ranges; one shopper is a range of one; the
    buyers of a batch of order events are named one by one."""

    low: int | None = None
    high: int | None = None
    ids: tuple[int, ...] | None = None

    @property
    def every(self) -> bool:
        """Every shopper of the shop (Shopify's ids are positive)."""
        return self.ids is None and self.high is None and (self.low is None or self.low <= 0)

    @classmethod
    def one(cls, customer_shopify_id: int) -> Shoppers:
        return cls(customer_shopify_id, customer_shopify_id)

    @classmethod
    def named(cls, customer_shopify_ids: Iterable[int]) -> Shoppers:
        return cls(ids=tuple(sorted(set(customer_shopify_ids))))

    def on(self, field: str) -> Q:
        """The selection as a filter on the model field holding the shopper's Shopify id."""
        if self.ids is not None:
            return Q(**{f"{field}__in": self.ids})
        selection = Q(**{f"{field}__isnull": False})
        if self.low is not None:
            selection &= Q(**{f"{field}__gte": self.low})
        if self.high is not None:
            selection &= Q(**{f"{field}__lte": self.high})
        return selection


def history_load(shop: Shop, shoppers: Shoppers, catalog: Catalog, *, include: Iterable[int] = ()) -> History:
    """The orders (not cancelled) and lines of the shoppers selected, plus the shoppers in
    `include` and the customers selected even with no order. Five queries."""
    orders = orders_selected(shop, shoppers)
    order_pk, order_id, order_customer_id, order_time, order_cents, order_country = _by_first(
        *columns_read(
            orders.values_list(
                "pk",
                "shopify_id",
                "customer_shopify_id",
                Epoch("shopify_created_at"),
                cents("total_price"),
                ShortText("shipping_country_code"),
            ),
            (INT, INT, INT, FLOAT, INT, SHORT_TEXT),
        )
    )
    customer_rows = list(
        Customer.objects.for_shop(shop)
        .filter(shoppers.on("shopify_id"), deleted_at__isnull=True, redacted_at__isnull=True)
        .values_list("shopify_id", "country_code", "province_code")
    )
    customer_ids = distinct(
        np.concatenate(
            [
                order_customer_id,
                np.fromiter((row[0] for row in customer_rows), dtype=np.int64, count=len(customer_rows)),
                np.fromiter(include, dtype=np.int64),
            ]
        )
    )
    order_customer = np.searchsorted(customer_ids, order_customer_id).astype(np.int64)
    refunded = orders_refunded_cents(
        Refund.objects.for_shop(shop).filter(_of_orders("order_id", shoppers, orders, order_pk)), order_pk
    )
    refunded_lines, refunded_units = columns_read(
        RefundLine.objects.for_shop(shop)
        .filter(_of_orders("refund__order_id", shoppers, orders, order_pk))
        .values("line_item_shopify_id")
        .annotate(units=Cast(Coalesce(Sum("quantity"), 0), BigIntegerField()))
        .values_list("line_item_shopify_id", "units"),
        (INT, INT),
    )
    line_order_pk, line_id, line_product, line_variant, line_quantity, line_unit_cents = columns_read(
        OrderLine.objects.for_shop(shop)
        .filter(_of_orders("order_id", shoppers, orders, order_pk))
        .values_list(
            "order_id",
            "shopify_id",
            Coalesce("product_id", 0, output_field=BigIntegerField()),
            Coalesce("variant_id", 0, output_field=BigIntegerField()),
            Cast("quantity", BigIntegerField()),
            cents("unit_price"),
        ),
        (INT, INT, INT, INT, INT, INT),
    )
    # The lines of the orders read only (`_of_orders` may read more), by order and line, so that
    # the same lines always add up in the same order.
    by_line = _ordered_by(line_order_pk, line_id)
    by_line = by_line[_among(line_order_pk[by_line], order_pk)]
    line_order_pk, line_id, line_product, line_variant, line_quantity, line_unit_cents = (
        column[by_line]
        for column in (line_order_pk, line_id, line_product, line_variant, line_quantity, line_unit_cents)
    )
    line_order = np.searchsorted(order_pk, line_order_pk)
    return History(
        customers=customer_ids,
        order_customer=order_customer,
        order_id=order_id,
        order_time=order_time,
        order_cents=order_cents - refunded,
        order_country=order_country,
        line_customer=order_customer[line_order],
        line_order_id=order_id[line_order],
        line_time=order_time[line_order],
        line_product=line_product,
        line_kept=line_quantity - _looked_up(line_id, refunded_lines, refunded_units, 0),
        line_unit_cents=line_unit_cents,
        line_size=catalog.sizes_of(line_variant),
        products=catalog.products,
        addresses={row[0]: (row[1], row[2]) for row in customer_rows},
    )


def buyers_orders_load(shop: Shop) -> tuple[Ints, Ints, Floats, Ints]:
    """What the shop's parameters are fitted on: every order (not cancelled) of its buyers, in
    the order they were stored. The buyers' Shopify ids (sorted), then per order its buyer (an
    index into them), time and cents net of refunds. Two queries of the columns needed only."""
    orders = orders_selected(shop, Shoppers())
    order_pk, customer_id, order_time, order_cents = _by_first(
        *columns_read(
            orders.values_list(
                "pk", "customer_shopify_id", Epoch("shopify_created_at"), cents("total_price")
            ),
            (INT, INT, FLOAT, INT),
        )
    )
    customers, order_customer = np.unique(customer_id, return_inverse=True)
    return (
        customers,
        order_customer.reshape(-1).astype(np.int64),
        order_time,
        order_cents
        - orders_refunded_cents(
            Refund.objects.for_shop(shop).filter(_of_orders("order_id", Shoppers(), orders, order_pk)),
            order_pk,
        ),
    )


def _of_orders(field: str, shoppers: Shoppers, orders: QuerySet[Order], order_pk: Ints) -> Q | AmongValues:
    """A condition that keeps the rows whose `field` is the pk of one of `orders` (the orders of
    `shoppers`, their pks read: `order_pk`), and maybe others of the shop: the reader keeps those
    of `order_pk` (`_among`). A few orders (one shopper's) by their pks: index lookups. Every
    shopper's: the shop's rows, in one sequential pass, where matching them to the orders in the
    database (a hash join of every order) took four times as long as reading them. Many but not
    all (a step of a large shop's recompute): by the orders' query, the planner joining them in
    one pass, where a lookup per order would jump across all of the table."""
    if order_pk.size <= AMONG_VALUES_MAX:
        return AmongValues(field, order_pk)
    if shoppers.every:
        return Q(**{f"{field}__isnull": False})
    return Q(**{f"{field}__in": orders.values("pk")})


def _among(values: Ints, sorted_values: Ints) -> npt.NDArray[np.bool_]:
    """Which of `values` are among `sorted_values` (ascending)."""
    if sorted_values.size == 0:
        return np.zeros(values.shape, dtype=bool)
    position = np.minimum(np.searchsorted(sorted_values, values), sorted_values.size - 1)
    return np.asarray(sorted_values[position] == values)


def orders_selected(shop: Shop, shoppers: Shoppers) -> QuerySet[Order]:
    """The orders that make the selected shoppers' histories: theirs, not cancelled."""
    return Order.objects.for_shop(shop).filter(shoppers.on("customer_shopify_id"), cancelled_at__isnull=True)


def orders_refunded_cents(refunds: QuerySet[Refund], order_pk: Ints) -> Ints:
    """What `refunds` took back of each order of `order_pk` (ascending), in cents: those of other
    orders (`_of_orders` may read them) count for none."""
    refunded = np.zeros(order_pk.size, dtype=np.int64)
    refund_order, refund_cents = columns_read(
        refunds.values("order_id")
        .annotate(total=Coalesce(cents_sum("amount"), 0, output_field=BigIntegerField()))
        .values_list("order_id", "total"),
        (INT, INT),
    )
    read = _among(refund_order, order_pk)
    np.add.at(refunded, np.searchsorted(order_pk, refund_order[read]), refund_cents[read])
    return refunded


def _by_first(*columns: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """The columns with their rows in the order of the first (the orders' pk: the order they were
    stored, which fixes how same-day orders add up). Rows mostly come from a table read in the
    order they were stored: then they are left as they are, unsorted."""
    if np.all(columns[0][1:] >= columns[0][:-1]):
        return list(columns)
    order = np.argsort(columns[0], kind="stable")
    return [column[order] for column in columns]


def _ordered_by(first: Ints, second: Ints) -> Ints:
    """The positions of the rows ordered by `first`, then `second` (np.lexsort's answer); without
    sorting when they come in that order already, as lines read in the order they were stored do."""
    if np.all((first[1:] > first[:-1]) | ((first[1:] == first[:-1]) & (second[1:] >= second[:-1]))):
        return np.arange(first.size)
    return np.lexsort((second, first))


def _looked_up(
    keys: Ints, table_keys: Ints, table_values: npt.NDArray[Any], missing: Any
) -> npt.NDArray[Any]:
    """`table_values` at each of `keys` in `table_keys` (distinct keys), `missing` where absent."""
    if table_keys.size == 0:
        return np.full(keys.shape, missing)
    order = np.argsort(table_keys)
    sorted_keys, sorted_values = table_keys[order], table_values[order]
    position = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[position] == keys, sorted_values[position], missing)


# --- Columns in bulk -------------------------------------------------------------------------------

INT = "int"  # bigint
FLOAT = "float"  # double precision
SHORT_TEXT = "short_text"  # text of at most 8 bytes in UTF-8, as a ShortText expression
# On PostgreSQL: how each kind is sent as fixed-width bytes, and how NumPy reads them.
_SENT = {INT: ("int8send({})", ">i8"), FLOAT: ("float8send({})", ">f8"), SHORT_TEXT: ("{}", "S8")}


class AmongValues(Func):
    """The condition that a field's value is one of many integers, passed as one parameter (not a
    placeholder per value): `= ANY(array)` on PostgreSQL, a JSON array on SQLite. The parameter is
    written here, in one join, rather than by the driver value by value."""

    output_field = BooleanField()

    def __init__(self, field: str, values: Ints) -> None:
        super().__init__(F(field))
        self.values = ",".join(map(str, values.tolist()))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"{sql} = ANY(%s::bigint[])", (*params, f"{{{self.values}}}")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"{sql} IN (SELECT value FROM json_each(%s))", (*params, f"[{self.values}]")  # noqa: S608 - a compiled column


class ShortText(Func):
    """A text column of at most 8 bytes in UTF-8 (a country code), as `columns_read` reads it: on
    PostgreSQL its bytes padded with zero bytes to 8, so that every row has the same width."""

    output_field = BinaryField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="substring(convert_to(%(expressions)s, 'UTF8') || %(padding)s from 1 for 8)",
            padding="'\\x0000000000000000'::bytea",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)


def columns_read(queryset: QuerySet[Any], kinds: Sequence[str]) -> list[npt.NDArray[Any]]:
    """The columns of a `values_list` queryset as NumPy arrays, in no particular row order (sort
    by a key column where order matters): int64 (INT), float64 (FLOAT) or str (SHORT_TEXT). No
    value may be NULL.

    On PostgreSQL the database packs the rows into one value, each row a record of fixed-width
    big-endian fields, which NumPy reads in place: no Python object per row or per value.
    Elsewhere (the demo's SQLite) the rows come through a cursor, converted column by column."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _columns_packed(cursor, sql, params, kinds)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if any(None in row for row in rows):
        raise ValueError("a NULL in the columns read")
    columns = list(zip(*rows, strict=True)) or [() for _ in kinds]
    return [_column(list(values), kind) for values, kind in zip(columns, kinds, strict=True)]


def _columns_packed(
    cursor: Any, sql: str, params: Sequence[Any], kinds: Sequence[str]
) -> list[npt.NDArray[Any]]:
    names = [f"c{index}" for index in range(len(kinds))]
    record = " || ".join(_SENT[kind][0].format(name) for name, kind in zip(names, kinds, strict=True))
    packed = (
        f"SELECT count(*), string_agg({record}, ''::bytea)"  # noqa: S608 - the query is the ORM's, values bound
        f" FROM ({sql}) AS row_values ({', '.join(names)})"
    )
    # The result in binary: the bytes as they are, not twice as many in hex to decode. Only a
    # server-side binding cursor answers in binary: the values are bound first as Django's
    # client-side cursor binds them.
    query = psycopg.ClientCursor(cursor.connection).mogrify(packed, params)
    with psycopg.Cursor(cursor.connection) as binary_cursor:
        binary_cursor.execute(query, binary=True)
        count, data = binary_cursor.fetchone() or (0, b"")
    dtype = np.dtype([(name, _SENT[kind][1]) for name, kind in zip(names, kinds, strict=True)])
    if len(data or b"") != count * dtype.itemsize:
        raise ValueError("a NULL in the columns read")  # string_agg skips the row: refuse it instead
    rows = np.frombuffer(data or b"", dtype=dtype)
    return [
        _short_texts(rows[name]) if kind == SHORT_TEXT else rows[name].astype(_NATIVE[kind])
        for name, kind in zip(names, kinds, strict=True)
    ]


_NATIVE = {INT: np.int64, FLOAT: np.float64}


def _column(values: list[Any], kind: str) -> npt.NDArray[Any]:
    if kind == INT:
        return np.array(values, dtype=np.int64)
    if kind == FLOAT:
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=str)


def _short_texts(values: npt.NDArray[np.bytes_]) -> npt.NDArray[np.str_]:
    """Zero-padded UTF-8 bytes as str, decoding each distinct value once."""
    distinct, inverse = np.unique(values, return_inverse=True)
    names = np.array([value.decode() for value in distinct.tolist()], dtype=str)
    return names[inverse.reshape(-1)] if names.size else np.zeros(0, dtype=str)


def cents_sum(field: str) -> Cast:
    return Cast(Round(Sum(field) * 100), BigIntegerField())
