"""The daily rollups equal what a direct computation over the source rows says, for any range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from commerce.models import Order
from loyalty.figures import program_figures
from loyalty.models import Entry
from overview.figures import overview_figures
from overview.models import DailyRollup, RollupState
from overview.rollups import rollup_days, rollups_refresh, shop_today
from personalize.stats import block_stats
from shop_app.models import Shop
from tests.overview.conftest import History

pytestmark = pytest.mark.django_db


@pytest.fixture
def utc_shop(shop: Shop) -> Shop:
    shop.timezone = "UTC"
    shop.save()
    return shop


def _build(history: History, days_ago: Callable[..., datetime]) -> None:
    """Thirty days of a small shop: clicks and the orders they take, members, points, topics."""
    for customer in (1, 2, 3, 4):
        history.customer(customer)
    history.event("impression", "for-you", days_ago(20))
    history.event("impression", "for-you", days_ago(12))
    history.event("impression", "trending", days_ago(12))
    history.event("click", "for-you", days_ago(12, hour=9), customer_id=1)
    history.order(1, days_ago(10), "40.00")  # within 7 days of the click: the block's
    history.order(1, days_ago(2), "15.00")  # 10 days after: nobody's
    history.event("click", "trending", days_ago(3, hour=8), customer_id=2)
    history.order(2, days_ago(3), "60.00")  # the same day, after the click
    history.order(3, days_ago(25), "10.00")
    history.order(3, days_ago(1), "22.50", cancelled=True)
    history.order(None, days_ago(5), "5.00")  # a guest
    member = history.member(1, days_ago(15))
    history.entry(member, 40, Entry.Kind.EARN, days_ago(10))
    history.entry(member, 100, Entry.Kind.JOIN, days_ago(15))
    history.entry(member, -50, Entry.Kind.REDEEM, days_ago(4))
    history.entry(member, 20, Entry.Kind.REDEEM_RETURN, days_ago(1))
    topic = history.topic("arrivals")
    history.subscription(topic, days_ago(20))
    history.subscription(topic, days_ago(6), left_at=days_ago(2))
    history.subscription(topic, None)  # never confirmed


def test_a_range_of_rollups_equals_the_direct_computation(
    utc_shop: Shop, history: Callable[[Shop], History], days_ago: Callable[..., datetime]
) -> None:
    # Given a month of history
    _build(history(utc_shop), days_ago)
    today = shop_today(utc_shop)

    # When the rollups are built and the last 14 days read
    rollup_days(utc_shop, today - timedelta(days=40), today)
    start = today - timedelta(days=13)
    figures = overview_figures(utc_shop, start, today)

    # Then the blocks' figures are personalize.stats' for the same range
    direct = block_stats(utc_shop, start, today)
    now = figures["current"]
    assert now["impressions"] == sum(block["impressions"] for block in direct["blocks"]) == 2
    assert now["clicks"] == sum(block["clicks"] for block in direct["blocks"]) == 2
    assert (
        Decimal(now["attributed_revenue"])
        == sum(Decimal(b["attributed_revenue"]) for b in direct["blocks"])
        == Decimal("100.00")
    )
    by_block = {block["block"]: block for block in figures["blocks"]}
    assert by_block["for-you"]["attributed_revenue"] == "40.00"
    assert by_block["trending"]["attributed_revenue"] == "60.00"

    # And the orders are those placed in the range and not cancelled, repeat when not the first
    placed = Order.objects.for_shop(utc_shop).filter(
        shopify_created_at__date__gte=start, cancelled_at__isnull=True
    )
    assert now["orders"] == placed.count() == 4
    assert Decimal(now["revenue"]) == placed.aggregate(total=Sum("total_price"))["total"]
    assert (now["member_orders"], now["member_repeat_orders"]) == (2, 1)  # shopper 1 joined 15 days ago
    assert (now["other_orders"], now["other_repeat_orders"]) == (2, 0)
    assert now["member_repeat_rate"] == 0.5

    # And the points are the ledger's, as loyalty's figures count them over all time
    program = program_figures(utc_shop)
    assert now["points_issued"] == 40  # the join was 15 days ago, before the range
    assert now["points_redeemed"] == 30
    assert (
        now["points_outstanding"]
        == Entry.objects.for_shop(utc_shop).aggregate(net=Sum("points"))["net"]
        == 110
    )
    everything = overview_figures(utc_shop, today - timedelta(days=40), today)["current"]
    assert everything["points_issued"] == program.points_earned
    assert everything["points_redeemed"] == program.points_redeemed

    # And subscribers count the confirmed who have not left, then and now
    assert [(topic["subscribers"], topic["previous"]) for topic in figures["topics"]] == [(1, 1)]


def test_the_period_before_is_as_long_and_ends_the_day_before(
    utc_shop: Shop, history: Callable[[Shop], History], days_ago: Callable[..., datetime]
) -> None:
    _build(history(utc_shop), days_ago)
    today = shop_today(utc_shop)
    rollup_days(utc_shop, today - timedelta(days=40), today)

    figures = overview_figures(utc_shop, today - timedelta(days=6), today)

    assert figures["previous_end"] == today - timedelta(days=7)
    assert figures["previous_start"] == today - timedelta(days=13)
    assert figures["previous"]["orders"] == 1  # the order 10 days ago
    assert figures["previous"]["attributed_revenue"] == "40.00"
    assert len(figures["days"]) == 7


def test_recomputing_a_day_changes_nothing_and_a_new_order_moves_only_its_day(
    utc_shop: Shop, history: Callable[[Shop], History], days_ago: Callable[..., datetime]
) -> None:
    # Given built rollups
    shop_history = history(utc_shop)
    _build(shop_history, days_ago)
    assert rollups_refresh(utc_shop) is False  # one step builds a month
    before = {row.day: row.orders for row in DailyRollup.objects.for_shop(utc_shop)}

    # When the job runs again with nothing new
    rollups_refresh(utc_shop)

    # Then nothing moved
    assert {row.day: row.orders for row in DailyRollup.objects.for_shop(utc_shop)} == before

    # When an order arrives for three days ago and the job runs
    shop_history.order(4, days_ago(3), "9.00")
    rollups_refresh(utc_shop)

    # Then that day counts it, and no other day changed
    after = {row.day: row.orders for row in DailyRollup.objects.for_shop(utc_shop)}
    changed = {day for day in after if after[day] != before.get(day)}
    assert changed == {days_ago(3).date()}


def test_the_first_build_goes_in_chunks_from_the_first_day(
    utc_shop: Shop, history: Callable[[Shop], History], days_ago: Callable[..., datetime]
) -> None:
    # Given a shop whose history starts 150 days ago
    history(utc_shop).order(None, days_ago(150), "10.00")

    # When the job runs step by step
    steps = 1
    while rollups_refresh(utc_shop):
        steps += 1

    # Then it took three steps of 60 days and covers every day to today
    assert steps == 3
    state = RollupState.objects.get(shop=utc_shop)
    assert state.building_from is None
    assert DailyRollup.objects.for_shop(utc_shop).count() == 151
    assert overview_figures(utc_shop, shop_today(utc_shop) - timedelta(days=150), shop_today(utc_shop))[
        "ready"
    ]


def test_snapshots_count_segments_and_standing_told_facts(
    utc_shop: Shop, history: Callable[[Shop], History], days_ago: Callable[..., datetime]
) -> None:
    shop_history = history(utc_shop)
    for customer in (1, 2, 3, 4):
        shop_history.customer(customer)
    shop_history.profile(1, "loyal")
    shop_history.profile(2, "loyal")
    shop_history.profile(3, "new")
    shop_history.fact(1, "gender", "female", days_ago(3))
    shop_history.fact(2, "gender", "male", days_ago(3))
    shop_history.fact(2, "gender", None, days_ago(1), withdrawn=True)  # withdrawn since
    shop_history.fact(3, "birthday", {"month": 4, "day": 2}, days_ago(2))

    rollups_refresh(utc_shop)
    today = shop_today(utc_shop)
    figures = overview_figures(utc_shop, today - timedelta(days=6), today)

    assert figures["shoppers"] == 4
    assert {segment["segment"]: segment["shoppers"] for segment in figures["segments"]} == {
        "loyal": 2,
        "new": 1,
    }
    assert all(segment["previous"] is None for segment in figures["segments"])  # no snapshot a week ago
    assert {fact["fact"]: (fact["shoppers"], fact["share"]) for fact in figures["facts"]} == {
        "gender": (1, 0.25),
        "birthday": (1, 0.25),
    }


def test_days_follow_the_shops_time_zone(shop: Shop, history: Callable[[Shop], History]) -> None:
    # Given a shop in New York and an order at 02:00 UTC, the evening before there
    shop.timezone = "America/New_York"
    shop.save()
    placed = datetime.fromisoformat("2026-03-10T02:00:00+00:00")
    history(shop).order(None, placed, "10.00")

    rollup_days(shop, date(2026, 3, 8), date(2026, 3, 10))

    assert {row.day: row.orders for row in DailyRollup.objects.for_shop(shop) if row.orders} == {
        date(2026, 3, 9): 1
    }
