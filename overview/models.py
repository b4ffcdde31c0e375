"""The overview's daily rollups: per shop and day, what the dashboard sums over a date range, kept
by workers (overview.rollups) so a page view reads a few hundred small rows, never the orders."""

from django.db import models

from shop_app.models import ShopOwned


class DailyRollup(ShopOwned):
    """One shop's day, in the shop's time zone."""

    day = models.DateField()
    # The storefront blocks (personalize.stats: orders within 7 days after a click, the latest
    # click taking the order).
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    attributed_orders = models.PositiveIntegerField(default=0)
    attributed_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    # Orders placed that day and not cancelled; "repeat" when the shopper had ordered before;
    # "member" when the shopper had joined the loyalty program by then (holdout excluded).
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    member_orders = models.PositiveIntegerField(default=0)
    member_repeat_orders = models.PositiveIntegerField(default=0)
    other_orders = models.PositiveIntegerField(default=0)
    other_repeat_orders = models.PositiveIntegerField(default=0)
    # The points ledger: issued (earned, joined, birthday, profile, positive adjustments), redeemed
    # (spent on rewards less what came back), and the day's net change (outstanding is their sum).
    points_issued = models.IntegerField(default=0)
    points_redeemed = models.IntegerField(default=0)
    points_net = models.IntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="overview_rollup_one_per_day")]

    def __str__(self) -> str:
        return f"{self.day}"


class DailyCount(ShopOwned):
    """A day's figure under a name and a key: a block's impressions, a topic's confirmations, and
    the snapshots that have no history of their own (segment sizes, told facts), taken each day."""

    class Measure(models.TextChoices):
        BLOCK_IMPRESSIONS = "block_impressions"
        BLOCK_CLICKS = "block_clicks"
        BLOCK_REVENUE = "block_revenue"
        TOPIC_JOINED = "topic_joined"
        TOPIC_LEFT = "topic_left"
        SEGMENT = "segment"  # snapshot: shoppers in the segment (key) that day
        FACT = "fact"  # snapshot: shoppers whose told fact (key) stands that day
        SHOPPERS = "shoppers"  # snapshot: shoppers with a profile (key "")

    day = models.DateField()
    measure = models.CharField(max_length=24, choices=Measure.choices)
    key = models.CharField(max_length=64, blank=True)
    value = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "measure", "day", "key"], name="overview_count_one_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.key}"


class RollupState(ShopOwned):
    """How far a shop's rollups are: the newest rows already counted (what changed since is what
    the next run recomputes), and the first build's progress."""

    last_event_id = models.BigIntegerField(default=0)
    last_entry_id = models.BigIntegerField(default=0)
    last_order_synced_at = models.DateTimeField(null=True, blank=True)
    # The first build runs from the shop's first day in chunks; null once it has reached today.
    building_from = models.DateField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="overview_state_one_per_shop")]
