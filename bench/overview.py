"""The Overview's figure of `make bench`: the dashboard's page data (GET /api/overview, server
time through Django's full stack) on a shop with a million orders over two years, beside a
baseline measured in the same run: GET /api/shop, the cheapest admin API.

The shop's history is written in bulk (orders, with storefront events and clicks for a share of
its shoppers), then its rollups are built by the same job the workers run, step by step; the
build's time is reported too. The page must read rollups only: under 200 ms for the last 30 days
and for the last year.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import jwt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from commerce.models import Order
from overview.rollups import rollups_refresh, shop_today
from personalize.models import StorefrontEvent
from shop_app.models import Shop

CHUNK = 20_000
BLOCKS = ("for-you", "because-you-bought", "trending", "seasonal")


def _token(shop: Shop) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://{shop.domain}/admin",
        "dest": f"https://{shop.domain}",
        "aud": settings.SHOPIFY_API_KEY,
        "sub": "1",
        "exp": now + 60,  # Shopify issues one-minute tokens; the app checks the lifetime
        "nbf": now - 1,
        "iat": now - 1,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.SHOPIFY_API_SECRET, algorithm="HS256")


def history_write(shop: Shop, orders: int, customers: int, days: int = 730, seed: int = 7) -> None:
    """`orders` orders spread over the last `days` days by `customers` shoppers, and for one in
    ten orders an impression and a click on a block a day before it."""
    rng = random.Random(seed)
    now = timezone.now()
    written = 0
    while written < orders:
        batch, events = [], []
        for serial in range(written, min(written + CHUNK, orders)):
            placed = now - timedelta(seconds=rng.randrange(days * 86400))
            customer = rng.randrange(1, customers + 1)
            total = Decimal(rng.randrange(1000, 20000)) / 100
            batch.append(
                Order(
                    shop=shop,
                    shopify_id=serial + 1,
                    name=f"#{serial + 1001}",
                    customer_shopify_id=customer,
                    currency="USD",
                    total_price=total,
                    subtotal_price=total,
                    total_discounts=Decimal(0),
                    total_tax=Decimal(0),
                    shopify_created_at=placed,
                    shopify_updated_at=placed,
                )
            )
            if serial % 10 == 0:
                block = BLOCKS[serial % len(BLOCKS)]
                seen: datetime = placed - timedelta(days=1)
                for kind in ("impression", "click"):
                    events.append(
                        StorefrontEvent(
                            shop=shop,
                            kind=kind,
                            block=block,
                            at=seen,
                            customer_shopify_id=customer,
                            product_shopify_id=1,
                        )
                    )
        Order.objects.bulk_create(batch, batch_size=5_000)
        StorefrontEvent.objects.bulk_create(events, batch_size=5_000)
        written += len(batch)
    # Statistics as autovacuum leaves a live shop's tables: without them the planner takes this
    # shop for the few rows it had and reads its orders once per order (bench/profiles.py does
    # the same after writing its shop).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Order, StorefrontEvent):
                cursor.execute(f"ANALYZE {model._meta.db_table}")


def _median_ms(client: Client, shop: Shop, path: str, params: dict[str, str], runs: int) -> float:
    timings = []
    for _ in range(runs):
        # A fresh session token each time, as App Bridge sends (the app refuses a token replayed).
        headers = {"Authorization": f"Bearer {_token(shop)}"}
        started = time.perf_counter()
        # secure: production settings send plain HTTP to HTTPS.
        response = client.get(path, params, headers=headers, secure=True)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
    return round(statistics.median(timings), 1)


def overview_bench(
    shop: Shop, orders: int = 1_000_000, customers: int = 100_000, runs: int = 15
) -> dict[str, Any]:
    """{"overview_page_ms" (last 30 days), "overview_year_ms", "baseline_ms" (GET /api/shop),
    "rollup_build_s", "orders"}."""
    history_write(shop, orders, customers)
    started = time.perf_counter()
    while rollups_refresh(shop):
        pass
    build_seconds = time.perf_counter() - started
    # A host the settings allow (the bench runs with production-like ALLOWED_HOSTS).
    hosts = [host for host in settings.ALLOWED_HOSTS if host and "*" not in host]
    client = Client(HTTP_HOST=hosts[0] if hosts else "testserver")
    today = shop_today(shop)
    month = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    year = {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()}
    _median_ms(client, shop, "/api/overview", month, 2)  # warm: connections, imports, caches
    return {
        "overview_page_ms": _median_ms(client, shop, "/api/overview", month, runs),
        "overview_year_ms": _median_ms(client, shop, "/api/overview", year, runs),
        "baseline_ms": _median_ms(client, shop, "/api/shop", {}, runs),
        "rollup_build_s": round(build_seconds, 1),
        "orders": orders,
    }
