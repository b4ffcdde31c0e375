"""What the blocks do for the shop, over a period: impressions, clicks and click rate per block,
and the revenue of orders attributed to a block (placed by a shopper within 7 days after they
clicked in it; the latest click before the order takes it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from commerce.models import Order
from personalize.models import StorefrontEvent
from shop_app.models import Shop

ATTRIBUTION_DAYS = 7


def block_stats(shop: Shop, start: date, end: date) -> dict[str, Any]:
    """Per block and per day from `start` to `end` (both included)."""
    since = datetime.combine(start, time.min, tzinfo=timezone.get_current_timezone())
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())
    events = StorefrontEvent.objects.for_shop(shop).filter(at__gte=since, at__lt=until)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"impression": 0, "click": 0})
    daily: dict[str, dict[str, Any]] = {}
    for day, block, kind, total in (
        events.filter(kind__in=["impression", "click"])
        .annotate(day=TruncDate("at"))
        .values_list("day", "block", "kind")
        .annotate(total=Count("pk"))
        .values_list("day", "block", "kind", "total")
    ):
        counts[block][kind] += total
        entry = daily.setdefault(
            day.isoformat(), {"day": day.isoformat(), "impressions": 0, "clicks": 0, "revenue": "0"}
        )
        entry["impressions" if kind == "impression" else "clicks"] += total
    revenue, orders = _attributed(shop, since, until)
    for day, amount in revenue["by_day"].items():
        entry = daily.setdefault(day, {"day": day, "impressions": 0, "clicks": 0, "revenue": "0"})
        entry["revenue"] = str(amount)
    blocks = sorted(set(counts) | set(revenue["by_block"]))
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "currency": shop.currency,
        "blocks": [
            {
                "block": block,
                "impressions": counts[block]["impression"],
                "clicks": counts[block]["click"],
                "click_rate": round(counts[block]["click"] / counts[block]["impression"], 4)
                if counts[block]["impression"]
                else None,
                "attributed_orders": orders.get(block, 0),
                "attributed_revenue": str(revenue["by_block"].get(block, Decimal("0.00"))),
            }
            for block in blocks
        ],
        "days": [daily[day] for day in sorted(daily)],
    }


def _attributed(
    shop: Shop, since: datetime, until: datetime
) -> tuple[dict[str, dict[str, Decimal]], dict[str, int]]:
    """Orders placed in the period, each given to the block of its shopper's latest click in the
    7 days before it. Two queries."""
    orders = list(
        Order.objects.for_shop(shop)
        .filter(shopify_created_at__gte=since, shopify_created_at__lt=until, cancelled_at__isnull=True)
        .exclude(customer_shopify_id=None)
        .values_list("customer_shopify_id", "shopify_created_at", "total_price")
    )
    clicks: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for customer, at, block in (
        StorefrontEvent.objects.for_shop(shop)
        .filter(
            kind=StorefrontEvent.Kind.CLICK,
            customer_shopify_id__in={customer for customer, _, _ in orders},
            at__gte=since - timedelta(days=ATTRIBUTION_DAYS),
            at__lt=until,
        )
        .values_list("customer_shopify_id", "at", "block")
    ):
        if customer is not None:
            clicks[customer].append((at, block))
    by_block: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    by_day: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    counted: dict[str, int] = defaultdict(int)
    for customer, placed, total in orders:
        if customer is None:
            continue
        before = [
            (at, block)
            for at, block in clicks.get(customer, [])
            if placed - timedelta(days=ATTRIBUTION_DAYS) <= at <= placed
        ]
        if not before:
            continue
        block = max(before)[1]
        by_block[block] += total
        by_day[timezone.localtime(placed).date().isoformat()] += total
        counted[block] += 1
    return {"by_block": dict(by_block), "by_day": dict(by_day)}, dict(counted)
