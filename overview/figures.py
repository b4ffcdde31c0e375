"""The dashboard's figures over a date range and the period of the same length before it, read
from the daily rollups only (a few hundred rows however large the shop)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from newsletters.topics import topics_for
from overview.models import DailyCount, DailyRollup, RollupState
from shop_app.models import Shop

M = DailyCount.Measure
SUMMED = (
    "impressions",
    "clicks",
    "attributed_orders",
    "attributed_revenue",
    "orders",
    "revenue",
    "member_orders",
    "member_repeat_orders",
    "other_orders",
    "other_repeat_orders",
    "points_issued",
    "points_redeemed",
)
MONEY = ("attributed_revenue", "revenue")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _totals(rows: list[dict[str, Any]], period: Period, outstanding: int) -> dict[str, Any]:
    inside = [row for row in rows if period.start <= row["day"] <= period.end]
    sums: dict[str, Any] = {
        name: sum((row[name] for row in inside), Decimal(0) if name in MONEY else 0) for name in SUMMED
    }
    for name in MONEY:
        sums[name] = str(sums[name].quantize(Decimal("0.01")))
    sums["click_rate"] = _share(sums["clicks"], sums["impressions"])
    sums["member_repeat_rate"] = _share(sums["member_repeat_orders"], sums["member_orders"])
    sums["other_repeat_rate"] = _share(sums["other_repeat_orders"], sums["other_orders"])
    sums["points_outstanding"] = outstanding
    return sums


def _outstanding(shop: Shop, current: Period, previous: Period) -> tuple[int, int]:
    """Points outstanding at each period's end: the ledger's net change summed to that day."""
    sums = DailyRollup.objects.for_shop(shop).aggregate(
        current=Sum("points_net", filter=Q(day__lte=current.end)),
        previous=Sum("points_net", filter=Q(day__lte=previous.end)),
    )
    return int(sums["current"] or 0), int(sums["previous"] or 0)


def _snapshot_on(shop: Shop, day: date) -> dict[tuple[str, str], int] | None:
    """The snapshots of the last day on or before `day` that has them (None before the first)."""
    taken = (
        DailyCount.objects.for_shop(shop)
        .filter(measure=M.SHOPPERS, day__lte=day)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if taken is None:
        return None
    return {
        (measure, key): int(value)
        for measure, key, value in DailyCount.objects.for_shop(shop)
        .filter(day=taken, measure__in=[M.SEGMENT, M.FACT, M.SHOPPERS])
        .values_list("measure", "key", "value")
    }


def _topics(shop: Shop, current: Period, previous: Period, language: str) -> list[dict[str, Any]]:
    subscribers: dict[str, dict[str, int]] = defaultdict(lambda: {"current": 0, "previous": 0})
    for key, measure, day_sum_current, day_sum_previous in (
        DailyCount.objects.for_shop(shop)
        .filter(measure__in=[M.TOPIC_JOINED, M.TOPIC_LEFT], day__lte=current.end)
        .values_list("key", "measure")
        .annotate(
            current=Sum("value"),
            previous=Sum("value", filter=Q(day__lte=previous.end)),
        )
        .values_list("key", "measure", "current", "previous")
    ):
        sign = 1 if measure == M.TOPIC_JOINED else -1
        subscribers[key]["current"] += sign * int(day_sum_current or 0)
        subscribers[key]["previous"] += sign * int(day_sum_previous or 0)
    return [
        {
            "topic_id": topic.pk,
            "name": topic.names.get(language) or topic.names.get("en") or topic.handle,
            "subscribers": subscribers[str(topic.pk)]["current"],
            "previous": subscribers[str(topic.pk)]["previous"],
        }
        for topic in topics_for(shop)
    ]


def _blocks(shop: Shop, current: Period, previous: Period) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "impressions": 0,
            "clicks": 0,
            "attributed_revenue": Decimal(0),
            "previous_revenue": Decimal(0),
        }
    )
    for key, measure, value_current, value_previous in (
        DailyCount.objects.for_shop(shop)
        .filter(
            measure__in=[M.BLOCK_IMPRESSIONS, M.BLOCK_CLICKS, M.BLOCK_REVENUE],
            day__gte=previous.start,
            day__lte=current.end,
        )
        .values_list("key", "measure")
        .annotate(
            current=Sum("value", filter=Q(day__gte=current.start)),
            previous=Sum("value", filter=Q(day__lte=previous.end)),
        )
        .values_list("key", "measure", "current", "previous")
    ):
        entry = found[key]
        if measure == M.BLOCK_IMPRESSIONS:
            entry["impressions"] = int(value_current or 0)
        elif measure == M.BLOCK_CLICKS:
            entry["clicks"] = int(value_current or 0)
        else:
            entry["attributed_revenue"] = value_current or Decimal(0)
            entry["previous_revenue"] = value_previous or Decimal(0)
    return [
        {
            "block": block,
            "impressions": entry["impressions"],
            "clicks": entry["clicks"],
            "click_rate": _share(entry["clicks"], entry["impressions"]),
            "attributed_revenue": str(Decimal(entry["attributed_revenue"]).quantize(Decimal("0.01"))),
            "previous_revenue": str(Decimal(entry["previous_revenue"]).quantize(Decimal("0.01"))),
        }
        for block, entry in sorted(found.items())
    ]


def _profiles(shop: Shop, current: Period, previous: Period) -> dict[str, Any]:
    now, before = _snapshot_on(shop, current.end), _snapshot_on(shop, previous.end)

    def keyed(snapshot: dict[tuple[str, str], int] | None, measure: str) -> dict[str, int]:
        return {key: value for (kind, key), value in (snapshot or {}).items() if kind == measure}

    shoppers_now = (now or {}).get((M.SHOPPERS, ""), 0)
    shoppers_before = (before or {}).get((M.SHOPPERS, ""), 0)
    segments_now, segments_before = keyed(now, M.SEGMENT), keyed(before, M.SEGMENT)
    facts_now, facts_before = keyed(now, M.FACT), keyed(before, M.FACT)
    return {
        "shoppers": shoppers_now,
        "segments": [
            {
                "segment": segment,
                "shoppers": segments_now.get(segment, 0),
                "previous": segments_before.get(segment) if before is not None else None,
            }
            for segment in sorted(set(segments_now) | set(segments_before))
        ],
        "facts": [
            {
                "fact": fact,
                "shoppers": facts_now.get(fact, 0),
                "share": _share(facts_now.get(fact, 0), shoppers_now),
                "previous_share": _share(facts_before.get(fact, 0), shoppers_before)
                if before is not None
                else None,
            }
            for fact in sorted(set(facts_now) | set(facts_before))
        ],
    }


def overview_figures(shop: Shop, start: date, end: date, language: str = "en") -> dict[str, Any]:
    """Everything the dashboard shows for `start`..`end` against the period before."""
    current = Period(start, end)
    previous = current.before()
    rows = list(
        DailyRollup.objects.for_shop(shop)
        .filter(day__gte=previous.start, day__lte=current.end)
        .order_by("day")
        .values("day", *SUMMED)
    )
    outstanding_now, outstanding_before = _outstanding(shop, current, previous)
    by_day = {row["day"]: row for row in rows}
    state = RollupState.objects.for_shop(shop).first()
    return {
        "start": current.start,
        "end": current.end,
        "previous_start": previous.start,
        "previous_end": previous.end,
        "currency": shop.currency,
        "ready": state is not None and state.building_from is None and state.built_at is not None,
        "computed_at": state.built_at if state else None,
        "current": _totals(rows, current, outstanding_now),
        "previous": _totals(rows, previous, outstanding_before),
        "days": [
            {
                "day": day,
                "impressions": by_day.get(day, {}).get("impressions", 0),
                "clicks": by_day.get(day, {}).get("clicks", 0),
                "attributed_revenue": str(by_day.get(day, {}).get("attributed_revenue", Decimal("0.00"))),
                "orders": by_day.get(day, {}).get("orders", 0),
            }
            for day in (current.start + timedelta(days=offset) for offset in range(current.days))
        ],
        "blocks": _blocks(shop, current, previous),
        "topics": _topics(shop, current, previous, language),
        **_profiles(shop, current, previous),
    }
