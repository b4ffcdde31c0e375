"""The profile figures of `make bench`: a full recompute of a generated shop's profiles, in orders
per second, beside a plain scan of the same rows in the same run; and one shopper's refresh.

The shop is written by PostgreSQL itself (generate_series), so that a million orders take seconds
to make: customers, orders over three years, two lines each from a small catalog with sizes, a
refund on one order in twenty.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

from django.db import connection

from commerce.models import Order, OrderLine, Refund
from personalize.refresh import profile_refresh, profiles_recompute_all
from shop_app.models import Shop

PRODUCTS = 200
ORDERS_PER_SHOPPER = 4
AS_OF = date(2026, 11, 30)
GENERATED_TABLES = (
    "commerce_product",
    "commerce_variant",
    "commerce_customer",
    "commerce_order",
    "commerce_orderline",
    "commerce_refund",
)


def shop_generate(shop: Shop, orders: int, *, products: int = PRODUCTS) -> None:
    """`orders` orders of orders / 4 shoppers, two lines each from `products` products, and a
    refund on one in twenty."""
    shoppers = max(orders // ORDERS_PER_SHOPPER, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO commerce_product (shop_id, shopify_id, title, handle, product_type, vendor, tags,
                                          status, image_url)
            SELECT %(shop)s, p, 'Product ' || p, 'product-' || p,
                   (ARRAY['Shirts','Coats','Dresses','Shoes','Hats'])[1 + p %% 5],
                   'Vendor ' || (p %% 12), 'cotton, season-' || (p %% 4), 'active', ''
            FROM generate_series(1, %(products)s) p;
            INSERT INTO commerce_variant (shop_id, product_id, shopify_id, title, position, options, price,
                                          currency, sku, available)
            SELECT %(shop)s, product.id, product.shopify_id * 10 + s, size, s,
                   jsonb_build_object('Size', size), 10 + (product.shopify_id %% 40) * 5, 'USD', '', 10
            FROM commerce_product product,
                 unnest(ARRAY['S','M','L']) WITH ORDINALITY AS sizes(size, s)
            WHERE product.shop_id = %(shop)s;
            INSERT INTO commerce_customer (shop_id, shopify_id, email, first_name, last_name, phone, tags,
                                           city, province, province_code, country_code, zip,
                                           email_marketing_state, email_marketing_opt_in_level)
            SELECT %(shop)s, c, 'shopper' || c || '@example.com', 'Shopper', c::text, '', '', '', '',
                   '', (ARRAY['US','JP','AU','GB','SG'])[1 + c %% 5], '', '', ''
            FROM generate_series(1::bigint, %(shoppers)s::bigint) c;
            INSERT INTO commerce_order (shop_id, shopify_id, name, customer_shopify_id, email, currency,
                                        total_price, subtotal_price, total_discounts, total_tax,
                                        financial_status, fulfillment_status, shipping_city,
                                        shipping_province, shipping_country_code, shipping_zip,
                                        shopify_created_at, shopify_updated_at, synced_at)
            SELECT %(shop)s, o, '#' || o, 1 + (o * 7919) %% %(shoppers)s, '', 'USD',
                   40 + (o %% 90), 40 + (o %% 90), 0, 0, 'paid', 'fulfilled', '', '', '', '',
                   TIMESTAMPTZ '2026-11-30' - ((o * 104729) %% 1095) * INTERVAL '1 day',
                   TIMESTAMPTZ '2026-11-30', now()
            FROM generate_series(1::bigint, %(orders)s::bigint) o;
            INSERT INTO commerce_orderline (shop_id, order_id, shopify_id, product_id, variant_id, sku, title,
                                            quantity, unit_price, currency)
            SELECT %(shop)s, o.id, o.shopify_id * 2 + n, p, p * 10 + 1 + (o.shopify_id + n) %% 3, '', '',
                   1 + n, 20 + (o.shopify_id %% 45), 'USD'
            FROM commerce_order o, generate_series(0, 1) n,
                 LATERAL (SELECT 1 + (o.shopify_id * 31 + n * 17) %% %(products)s AS p) product
            WHERE o.shop_id = %(shop)s;
            INSERT INTO commerce_refund (shop_id, shopify_id, order_shopify_id, order_id, amount, currency,
                                         note, shopify_created_at)
            SELECT %(shop)s, o.shopify_id, o.shopify_id, o.id, 10, 'USD', '', o.shopify_created_at
            FROM commerce_order o WHERE o.shop_id = %(shop)s AND o.shopify_id %% 20 = 0;
            """,
            {"shop": shop.pk, "products": products, "shoppers": shoppers, "orders": orders},
        )
        # As autovacuum leaves a live shop's tables (statistics, hint bits, the visibility map that
        # index-only scans read), for the scan and the recompute alike. VACUUM cannot run in a
        # transaction: inside one (a test), statistics only.
        for table in GENERATED_TABLES:
            cursor.execute(f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {table}")


def plain_scan(shop: Shop) -> int:
    """The baseline: read the columns a recompute reads, of the same rows, and do nothing."""
    rows = 0
    for queryset, fields in (
        (
            Order.objects.for_shop(shop),
            (
                "pk",
                "shopify_id",
                "customer_shopify_id",
                "shopify_created_at",
                "total_price",
                "shipping_country_code",
            ),
        ),
        (Refund.objects.for_shop(shop), ("order_id", "amount")),
        (
            OrderLine.objects.for_shop(shop),
            ("order_id", "shopify_id", "product_id", "variant_id", "quantity", "unit_price"),
        ),
    ):
        for _row in queryset.values_list(*fields).iterator(chunk_size=10_000):
            rows += 1
    return rows


def profiles_bench(shop: Shop, orders: int, *, refreshes: int = 20) -> dict[str, Any]:
    """Generate the shop, then time the plain scan and the full recompute, and one shopper's refresh
    (median of `refreshes`)."""
    shop_generate(shop, orders)
    started = time.perf_counter()
    plain_scan(shop)
    scan_seconds = time.perf_counter() - started
    started = time.perf_counter()
    profiles_recompute_all(shop, as_of=AS_OF)
    recompute_seconds = time.perf_counter() - started
    timings = []
    for shopper in range(1, refreshes + 1):
        started = time.perf_counter()
        profile_refresh(shop, shopper, as_of=AS_OF)
        timings.append(time.perf_counter() - started)
    return {
        "profile_orders": orders,
        "profile_scan_orders_per_s": round(orders / scan_seconds, 1),
        "profile_recompute_orders_per_s": round(orders / recompute_seconds, 1),
        "profile_recompute_to_scan_time": round(recompute_seconds / scan_seconds, 2),
        "profile_refresh_ms": round(statistics.median(timings) * 1000, 2),
    }
