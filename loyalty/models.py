"""The points ledger and the program around it.

Every change of a shopper's points is an Entry: append-only, integer points, a kind, the cause it
came from and an idempotency key unique per shop (the order's earning, a refund, the birthday's
year, a profile field, a redemption request), so a cause delivered twice is one entry. Positive
entries open a Lot (what expiry takes oldest first, and what a claw-back reverses); negative
entries draw from lots (LotDraw). The Member row caches the balance and is only written under a
row lock, in the entry's transaction (loyalty.ledger).

Invariants, checked by loyalty.ledger.ledger_check (beat) and the property tests:
- member.balance == sum(entries.points), member.lifetime and member.debt likewise;
- 0 <= lot.remaining <= lot.points and lot.remaining == lot.points - sum(its draws);
- sum(lots.remaining) == max(balance, 0): points owed (a negative balance) are settled by the
  next lot before anything else.
"""

from decimal import Decimal

from django.db import models

from shop_app.tenancy import ShopOwned


class Program(ShopOwned):
    """A shop's loyalty program: what the merchant chose. Earning rules are versioned
    (RulesVersion): every entry names the version it was computed under."""

    class ExpiryMode(models.TextChoices):
        NEVER = "never", "Points never expire"
        LOT = "lot", "Each award expires a set time after it is earned"
        INACTIVITY = "inactivity", "All points expire after a set time without activity"

    class RefundPolicy(models.TextChoices):
        NEGATIVE = "negative", "Take the points back even if it makes the balance negative"
        STOP_AT_ZERO = "stop_at_zero", "Stop at zero and record what could not be taken as debt"

    class UnusedCodePolicy(models.TextChoices):
        RETURN = "return", "Points of an expired, unused code come back"
        FORFEIT = "forfeit", "Points of an expired, unused code are lost"

    class TierBasis(models.TextChoices):
        POINTS = "points", "Points earned in the period"
        SPEND = "spend", "Spend in the period"

    enabled = models.BooleanField(default=True)
    # Orders placed before this time earn nothing (the imported history).
    started_at = models.DateTimeField()
    rules_version = models.PositiveIntegerField(default=1)
    # The current earning rules (a copy of the newest RulesVersion's): see loyalty.program.RULES_DEFAULT.
    rules = models.JSONField(default=dict)
    expiry_mode = models.CharField(max_length=16, choices=ExpiryMode.choices, default=ExpiryMode.NEVER)
    expiry_days = models.PositiveIntegerField(default=365)
    reminder_days = models.PositiveIntegerField(default=14)
    refund_policy = models.CharField(
        max_length=16, choices=RefundPolicy.choices, default=RefundPolicy.STOP_AT_ZERO
    )
    unused_code_policy = models.CharField(
        max_length=16, choices=UnusedCodePolicy.choices, default=UnusedCodePolicy.RETURN
    )
    tier_basis = models.CharField(max_length=16, choices=TierBasis.choices, default=TierBasis.POINTS)
    tier_period_days = models.PositiveIntegerField(default=365)
    # Birthday: points on the day, or a reward (a code) instead when set.
    birthday_points = models.PositiveIntegerField(default=0)
    birthday_reward = models.ForeignKey(
        "Reward", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The share of new members (0 to 50 %) put in a holdout group that earns nothing, to measure lift.
    holdout_percent = models.PositiveSmallIntegerField(default=0)
    # The notice of financial incentive (California: points for personal data), and its version.
    incentive_notice = models.TextField(blank=True)
    incentive_notice_version = models.CharField(max_length=32, default="1")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="loyalty_program_per_shop")]

    def __str__(self) -> str:
        return f"loyalty program of {self.shop_id}"


class RulesVersion(ShopOwned):
    """One version of a shop's earning rules, kept for ever: entries point at it by number."""

    version = models.PositiveIntegerField()
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="loyalty_rules_version_unique")
        ]


class Tier(ShopOwned):
    name = models.CharField(max_length=64)
    # Points earned, or spend in the shop's currency, over the program's rolling period.
    threshold = models.DecimalField(max_digits=14, decimal_places=2)
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    benefits = models.TextField(blank=True)

    class Meta:
        ordering = ["threshold", "pk"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="loyalty_tier_name_unique")]

    def __str__(self) -> str:
        return self.name


class Reward(ShopOwned):
    class Kind(models.TextChoices):
        FIXED_AMOUNT = "fixed_amount", "An amount off the order"
        PERCENTAGE = "percentage", "A percentage off the order"
        FREE_SHIPPING = "free_shipping", "Free shipping"
        STORE_CREDIT = "store_credit", "Store credit"

    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The amount (fixed amount, store credit) in the shop's currency, or the percentage (1 to 100).
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    points_cost = models.PositiveIntegerField()
    minimum_order = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # How long a code (or store credit) is valid once issued.
    expires_after_days = models.PositiveIntegerField(default=90)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["points_cost", "pk"]

    def __str__(self) -> str:
        return self.name


class Member(ShopOwned):
    """A shopper in the program, by Shopify customer id, with the cached balances (written only
    by loyalty.ledger under this row's lock)."""

    customer_shopify_id = models.BigIntegerField()
    # Sum of every entry's points: available + pending (negative when points are owed).
    balance = models.IntegerField(default=0)
    # Points ever earned, net of claw-backs (not reduced by spending or expiry).
    lifetime = models.IntegerField(default=0)
    # What a claw-back could not take (policy stop_at_zero), for the books.
    debt = models.IntegerField(default=0)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier_metric = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    # Joined: opted in to the program, with the financial-incentive notice shown (version).
    joined_at = models.DateTimeField(null=True, blank=True)
    incentive_notice_version = models.CharField(max_length=32, blank=True)
    holdout = models.BooleanField(default=False)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    # When the birthday was (last) set: nothing is awarded in the 30 days after.
    birthday_set_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    inactivity_reminded_at = models.DateTimeField(null=True, blank=True)
    # The theme mirror (customer metafields): what they should say and what was last written.
    metafields_value = models.CharField(max_length=255, blank=True)
    metafields_written = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer_shopify_id"], name="loyalty_member_unique"),
        ]
        indexes = [
            # Birthdays of the day (loyalty.birthday, beat).
            models.Index(fields=["shop", "birthday_month", "birthday_day"], name="loyalty_member_birthday"),
        ]

    def __str__(self) -> str:
        return f"member {self.customer_shopify_id}"


class Entry(ShopOwned):
    """One change of a member's points. Never updated, never deleted (privacy erases the person:
    the member's customer id, not the amounts)."""

    class Kind(models.TextChoices):
        EARN = "earn", "Earned on an order"
        CLAWBACK = "clawback", "Taken back (refund or cancellation)"
        PROFILE = "profile", "For telling the shop about yourself"
        JOIN = "join", "For joining"
        BIRTHDAY = "birthday", "Birthday"
        REDEEM = "redeem", "Spent on a reward"
        REDEEM_RETURN = "redeem_return", "Returned: the reward could not be issued or expired unused"
        EXPIRE = "expire", "Expired"
        ADJUST = "adjust", "Adjusted by the merchant"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What caused it, readable: "order 1001", "refund 55", "birthday 2026", "profile gender"...
    cause = models.CharField(max_length=255)
    idempotency_key = models.CharField(max_length=255)
    rules_version = models.PositiveIntegerField(null=True, blank=True)
    # Points a claw-back could not take (policy stop_at_zero): recorded, not taken.
    debt = models.IntegerField(default=0)
    order_shopify_id = models.BigIntegerField(null=True, blank=True)
    # For a positive entry: when its points can be spent (after the pending period).
    available_at = models.DateTimeField(null=True, blank=True)
    # The consent (personalize's ConsentRecord id) a profile fact was told under, for the
    # financial-incentive record.
    consent_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # Who made a manual adjustment (the session token's user id).
    actor = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="loyalty_entry_key_unique"),
        ]
        indexes = [
            models.Index(fields=["shop", "member", "created_at"], name="loyalty_entry_by_member"),
            models.Index(fields=["shop", "order_shopify_id"], name="loyalty_entry_by_order"),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.kind} ({self.cause})"


class Lot(ShopOwned):
    """The points of one positive entry, as they are spent, taken back or expire."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("points")), name="loyalty_lot_within_points"
            ),
        ]
        indexes = [
            # A member's lots with points left (every balance read and draw).
            models.Index(
                fields=["member", "expires_at"],
                name="loyalty_lot_open",
                condition=models.Q(remaining__gt=0),
            ),
        ]


class LotDraw(ShopOwned):
    """Points a negative entry took from a lot (or a positive entry from its own lot, to settle
    points owed)."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField()


class Redemption(ShopOwned):
    """A shopper's request to spend points on a reward: reserved, then issued (the code) or failed
    (the points returned). One per (shop, customer, idempotency key)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Points reserved, the code being created"
        ISSUED = "issued", "Code created"
        FAILED = "failed", "Shopify refused or failed; points returned"
        EXPIRED = "expired", "Code expired unused"
        USED = "used", "Code used"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    points = models.PositiveIntegerField()
    attempts = models.PositiveIntegerField(default=1)
    code = models.CharField(max_length=64, blank=True)
    discount_gid = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "member", "idempotency_key"], name="loyalty_redemption_key_unique"
            ),
        ]
        indexes = [
            # Reserved rows a worker died on, and issued codes past their end (loyalty.redemption).
            models.Index(
                fields=["status", "updated_at"],
                name="loyalty_redemption_open",
                condition=models.Q(status__in=["reserved", "issued"]),
            ),
        ]


class LedgerDifference(ShopOwned):
    """What the scheduled check found when a cached balance did not equal the ledger."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=32)
    cached = models.BigIntegerField()
    ledger = models.BigIntegerField()
    found_at = models.DateTimeField(auto_now_add=True)
