"""The overview's daily rollups, kept by workers.

`rollup_days(shop, start, end)` recomputes each day of a range from the source rows (storefront
events, orders, the points ledger, newsletter subscriptions) and replaces that range's rows, so
running it twice changes nothing. Days are the shop's, in its time zone.

One shop job, `overview.rollup`, keeps them current:
- the first run builds from the shop's first day to today, 60 days a step;
- later runs recompute the days whose source rows changed since the last run (each new storefront
  event's day and the 7 days after it, since a click takes orders for a week; each changed order's
  day; each new ledger entry's day) and today, then take today's snapshots (segment sizes, told
  facts, shoppers), which have no history to recompute from;
- the nightly run (key "nightly") recomputes the last 35 days, which also settles what an order
  changes for later days (a shopper's first order makes their next one a repeat).
Beat asks every 5 minutes for the shops with changes (`rollups_refresh_due`) and nightly for all.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from commerce.models import Customer, Order
from loyalty.models import Entry, Member
from newsletters.models import Subscription
from overview.models import DailyCount, DailyRollup, RollupState
from personalize.models import Fact, Profile, StorefrontEvent
from personalize.stats import ATTRIBUTION_DAYS, block_stats
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

ROLLUP_JOB = "overview.rollup"
NIGHTLY_KEY = "nightly"
NIGHTLY_DAYS = 35
BUILD_CHUNK_DAYS = 60
# More changed days than this (an import landing after the first build) rebuilds from the oldest.
CHANGED_DAYS_MOST = BUILD_CHUNK_DAYS
# The measures recomputed with their day; the others are snapshots of the day they were taken.
RANGE_MEASURES = (
    DailyCount.Measure.BLOCK_IMPRESSIONS,
    DailyCount.Measure.BLOCK_CLICKS,
    DailyCount.Measure.BLOCK_REVENUE,
    DailyCount.Measure.TOPIC_JOINED,
    DailyCount.Measure.TOPIC_LEFT,
)
SNAPSHOT_MEASURES = (DailyCount.Measure.SEGMENT, DailyCount.Measure.FACT, DailyCount.Measure.SHOPPERS)


def shop_today(shop: Shop) -> date:
    with timezone.override(shop.timezone):
        return timezone.localdate()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range's instants in the current time zone: [start 00:00, the day after end 00:00)."""
    zone = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=zone), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=zone
    )


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


@dataclass
class _Day:
    rollup: DailyRollup
    counts: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def _blocks(shop: Shop, days: dict[date, _Day]) -> None:
    """The blocks' figures, day by day through personalize.stats (the one attribution rule)."""
    for day, entry in days.items():
        stats = block_stats(shop, day, day)
        for block in stats["blocks"]:
            name = block["block"]
            entry.rollup.impressions += block["impressions"]
            entry.rollup.clicks += block["clicks"]
            entry.rollup.attributed_orders += block["attributed_orders"]
            revenue = Decimal(block["attributed_revenue"])
            entry.rollup.attributed_revenue += revenue
            entry.counts[(DailyCount.Measure.BLOCK_IMPRESSIONS, name)] += block["impressions"]
            entry.counts[(DailyCount.Measure.BLOCK_CLICKS, name)] += block["clicks"]
            entry.counts[(DailyCount.Measure.BLOCK_REVENUE, name)] += revenue


def _orders(shop: Shop, since: datetime, until: datetime, days: dict[date, _Day]) -> None:
    earlier = Order.objects.for_shop(shop).filter(
        customer_shopify_id=OuterRef("customer_shopify_id"),
        cancelled_at__isnull=True,
        shopify_created_at__lt=OuterRef("shopify_created_at"),
    )
    member = Member.objects.for_shop(shop).filter(
        customer_shopify_id=OuterRef("customer_shopify_id"),
        holdout=False,
        joined_at__isnull=False,
        joined_at__lte=OuterRef("shopify_created_at"),
    )
    rows = (
        Order.objects.for_shop(shop)
        .filter(shopify_created_at__gte=since, shopify_created_at__lt=until, cancelled_at__isnull=True)
        .annotate(day=TruncDate("shopify_created_at"), repeat=Exists(earlier), member=Exists(member))
        .values("day", "repeat", "member")
        .annotate(orders=Count("pk"), revenue=Sum("total_price"))
    )
    for row in rows:
        rollup = days[row["day"]].rollup
        rollup.orders += row["orders"]
        rollup.revenue += row["revenue"] or Decimal("0")
        if row["member"]:
            rollup.member_orders += row["orders"]
            rollup.member_repeat_orders += row["orders"] if row["repeat"] else 0
        else:
            rollup.other_orders += row["orders"]
            rollup.other_repeat_orders += row["orders"] if row["repeat"] else 0


def _points(shop: Shop, since: datetime, until: datetime, days: dict[date, _Day]) -> None:
    """As loyalty.figures counts them: issued is every gain but a redemption's return; redeemed
    is what rewards took less what came back."""
    rows = (
        Entry.objects.for_shop(shop)
        .filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            issued=Sum("points", filter=Q(points__gt=0) & ~Q(kind=Entry.Kind.REDEEM_RETURN)),
            spent=Sum("points", filter=Q(kind=Entry.Kind.REDEEM)),
            returned=Sum("points", filter=Q(kind=Entry.Kind.REDEEM_RETURN)),
            net=Sum("points"),
        )
    )
    for row in rows:
        rollup = days[row["day"]].rollup
        rollup.points_issued = row["issued"] or 0
        rollup.points_redeemed = -(row["spent"] or 0) - (row["returned"] or 0)
        rollup.points_net = row["net"] or 0


def _topics(shop: Shop, since: datetime, until: datetime, days: dict[date, _Day]) -> None:
    """Confirmations and departures per topic and day; subscribers on a day are their sum so far."""
    subscriptions = Subscription.objects.for_shop(shop).filter(confirmed_at__isnull=False)
    for measure, column in (
        (DailyCount.Measure.TOPIC_JOINED, "confirmed_at"),
        (DailyCount.Measure.TOPIC_LEFT, "unsubscribed_at"),
    ):
        rows = (
            subscriptions.filter(**{f"{column}__gte": since, f"{column}__lt": until})
            .annotate(day=TruncDate(column))
            .values("day", "topic_id")
            .annotate(total=Count("pk"))
        )
        for row in rows:
            days[row["day"]].counts[(measure, str(row["topic_id"]))] += row["total"]


def rollup_days(shop: Shop, start: date, end: date) -> int:
    """Recompute the shop's rollups from `start` to `end` (both included); returns the days."""
    now = timezone.now()
    with timezone.override(shop.timezone):
        since, until = _bounds(start, end)
        days = {day: _Day(DailyRollup(shop=shop, day=day, computed_at=now)) for day in _days(start, end)}
        _blocks(shop, days)
        _orders(shop, since, until, days)
        _points(shop, since, until, days)
        _topics(shop, since, until, days)
    counts = [
        DailyCount(shop=shop, day=day, measure=measure, key=key, value=value)
        for day, entry in days.items()
        for (measure, key), value in entry.counts.items()
        if value
    ]
    with transaction.atomic():
        DailyRollup.objects.for_shop(shop).filter(day__gte=start, day__lte=end).delete()
        DailyCount.objects.for_shop(shop).filter(
            day__gte=start, day__lte=end, measure__in=RANGE_MEASURES
        ).delete()
        DailyRollup.objects.bulk_create([entry.rollup for entry in days.values()])
        DailyCount.objects.bulk_create(counts)
    return len(days)


def snapshot_take(shop: Shop, day: date) -> None:
    """Today's segment sizes, told facts and shoppers, kept for comparing periods later."""
    values: dict[tuple[str, str], int] = {}
    for segment, total in (
        Profile.objects.for_shop(shop)
        .values_list("segment")
        .annotate(total=Count("pk"))
        .values_list("segment", "total")
    ):
        values[(DailyCount.Measure.SEGMENT, segment)] = total
    newest = (
        Fact.objects.for_shop(shop)
        .filter(customer_shopify_id=OuterRef("customer_shopify_id"), name=OuterRef("name"))
        .order_by("-stated_at", "-pk")
        .values("pk")[:1]
    )
    standing = (
        Fact.objects.for_shop(shop)
        .filter(pk=Subquery(newest), withdrawn=False)
        .values("name")
        .annotate(shoppers=Count("customer_shopify_id", distinct=True))
    )
    for row in standing:
        values[(DailyCount.Measure.FACT, row["name"])] = row["shoppers"]
    shoppers = (
        Customer.objects.for_shop(shop).filter(deleted_at__isnull=True, redacted_at__isnull=True).count()
    )
    values[(DailyCount.Measure.SHOPPERS, "")] = shoppers
    with transaction.atomic():
        DailyCount.objects.for_shop(shop).filter(day=day, measure__in=SNAPSHOT_MEASURES).delete()
        DailyCount.objects.bulk_create(
            DailyCount(shop=shop, day=day, measure=measure, key=key, value=value)
            for (measure, key), value in values.items()
        )


@dataclass(frozen=True)
class _Marks:
    event_id: int
    entry_id: int
    order_synced_at: datetime | None


def _marks(shop: Shop) -> _Marks:
    return _Marks(
        event_id=StorefrontEvent.objects.for_shop(shop).aggregate(most=Max("pk"))["most"] or 0,
        entry_id=Entry.objects.for_shop(shop).aggregate(most=Max("pk"))["most"] or 0,
        order_synced_at=Order.objects.for_shop(shop).aggregate(most=Max("synced_at"))["most"],
    )


def _changed_days(shop: Shop, state: RollupState, marks: _Marks, today: date) -> set[date]:
    changed: set[date] = {today}
    with timezone.override(shop.timezone):
        for day in (
            StorefrontEvent.objects.for_shop(shop)
            .filter(pk__gt=state.last_event_id, pk__lte=marks.event_id)
            .annotate(day=TruncDate("at"))
            .values_list("day", flat=True)
            .distinct()
        ):
            changed.update(day + timedelta(days=offset) for offset in range(ATTRIBUTION_DAYS + 1))
        orders = Order.objects.for_shop(shop)
        if state.last_order_synced_at is not None:
            orders = orders.filter(synced_at__gt=state.last_order_synced_at)
        if marks.order_synced_at is not None:
            orders = orders.filter(synced_at__lte=marks.order_synced_at)
        changed.update(
            orders.annotate(day=TruncDate("shopify_created_at")).values_list("day", flat=True).distinct()
        )
        changed.update(
            Entry.objects.for_shop(shop)
            .filter(pk__gt=state.last_entry_id, pk__lte=marks.entry_id)
            .annotate(day=TruncDate("created_at"))
            .values_list("day", flat=True)
            .distinct()
        )
    return {day for day in changed if day <= today}


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _first_day(shop: Shop, today: date) -> date:
    with timezone.override(shop.timezone):
        firsts = [
            Order.objects.for_shop(shop).aggregate(first=Min("shopify_created_at"))["first"],
            StorefrontEvent.objects.for_shop(shop).aggregate(first=Min("at"))["first"],
            Entry.objects.for_shop(shop).aggregate(first=Min("created_at"))["first"],
        ]
        days = [timezone.localtime(first).date() for first in firsts if first is not None]
    return min([*days, today])


def _state_save(state: RollupState, marks: _Marks) -> None:
    state.last_event_id = max(state.last_event_id, marks.event_id)
    state.last_entry_id = max(state.last_entry_id, marks.entry_id)
    if marks.order_synced_at is not None:
        state.last_order_synced_at = marks.order_synced_at
    state.save()


def rollups_refresh(shop: Shop, *, recent_days: int = 0) -> bool:
    """One step for the shop: build on, or bring changed days (and the last `recent_days`) up to
    date. Returns whether more steps are needed."""
    today = shop_today(shop)
    state, created = RollupState.objects.get_or_create(shop=shop)
    if created or (state.building_from is None and state.built_at is None):
        marks = _marks(shop)
        state.building_from = _first_day(shop, today)
        _state_save(state, marks)
    if state.building_from is not None:
        last = min(state.building_from + timedelta(days=BUILD_CHUNK_DAYS - 1), today)
        rollup_days(shop, state.building_from, last)
        if last < today:
            state.building_from = last + timedelta(days=1)
            state.save(update_fields=["building_from"])
            return True
        state.building_from = None
        state.built_at = timezone.now()
        state.save(update_fields=["building_from", "built_at"])
        snapshot_take(shop, today)
        return False
    marks = _marks(shop)
    changed = _changed_days(shop, state, marks, today)
    if recent_days:
        changed.update(today - timedelta(days=offset) for offset in range(recent_days))
    if len(changed) > max(CHANGED_DAYS_MOST, recent_days):
        # Much changed at once: rebuild from the oldest of it, a chunk a step.
        state.building_from = min(changed)
        _state_save(state, marks)
        return True
    for first, last in _runs(changed):
        rollup_days(shop, first, last)
    snapshot_take(shop, today)
    state.built_at = timezone.now()
    _state_save(state, marks)
    return False


def rollup_job_run(job: Job) -> float | None:
    """The shop job: one step, and again at once while the build goes on."""
    recent = NIGHTLY_DAYS if job.key == NIGHTLY_KEY else 0
    return 0.5 if rollups_refresh(job.shop, recent_days=recent) else None


def rollups_refresh_due() -> int:
    """Beat, every 5 minutes: a rollup job for each installed shop whose events, orders or ledger
    moved since its last run (or that has none yet). Returns how many were queued."""
    queued = 0
    for shop in Shop.objects.installed():
        state = RollupState.objects.for_shop(shop).first()
        due = (
            state is None
            or state.building_from is not None
            or StorefrontEvent.objects.for_shop(shop).filter(pk__gt=state.last_event_id).exists()
            or Entry.objects.for_shop(shop).filter(pk__gt=state.last_entry_id).exists()
            or Order.objects.for_shop(shop)
            .filter(**({"synced_at__gt": state.last_order_synced_at} if state.last_order_synced_at else {}))
            .exists()
        )
        if due:
            job_enqueue(shop, ROLLUP_JOB)
            queued += 1
    return queued


def rollups_nightly() -> int:
    """Beat, nightly: every installed shop's last 35 days recomputed and its snapshots taken."""
    shops = list(Shop.objects.installed())
    for shop in shops:
        job_enqueue(shop, ROLLUP_JOB, key=NIGHTLY_KEY)
    return len(shops)


def rollups_ensure(shop: Shop) -> None:
    """A shop never rolled up gets its first build queued (the page asks when it opens)."""
    if not RollupState.objects.for_shop(shop).exists():
        job_enqueue(shop, ROLLUP_JOB)
