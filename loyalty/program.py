"""The merchant's program: earning rules (versioned), policies, rewards and tiers.

The earning rules are a small document (RULES_DEFAULT's shape). Saving different rules makes a new
RulesVersion; each entry records the version it was computed under, so a change of rules never
rewrites what was earned before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from loyalty.models import Program, Reward, RulesVersion, Tier
from shop_app.errors import FieldError
from shop_app.models import Shop

# The profile data points may be given for, once per lifetime each: the fact's name (as
# personalize records it) and what it asks for and why, shown beside the offer.
PROFILE_WAYS: dict[str, tuple[Promise, Promise]] = {
    "birthday": (
        _("Your birthday (month and day, no year)"),
        _("So we can send you a birthday treat."),
    ),
    "gender": (
        _("Your gender, or “prefer not to say”"),
        _("So recommendations fit what you shop for."),
    ),
    "region": (_("Your country and region"), _("So we suggest what suits your weather and season.")),
    "quiz": (_("Your answers to the style quiz"), _("So we can pick products for you.")),
    "topics": (
        _("A newsletter topic you confirmed"),
        _("So we write to you only about what you chose."),
    ),
}
JOIN_WAY = (_("Joining the program"), _("Points need an account to be kept."))

DEFAULT_INCENTIVE_NOTICE = (
    "Notice of financial incentive: we give points when you share some personal information "
    "(your birthday, gender, region, quiz answers or newsletter topics). We value that "
    "information at the points offered, estimated from what it helps us sell. Joining is "
    "optional; you can leave at any time and ask us to delete what you told us."
)

RULES_DEFAULT: dict[str, Any] = {
    "points_per_unit": "1",  # points per unit of the shop's currency of the eligible amount
    "pending_days": 30,  # the return window: points are spendable after it
    "join_points": 50,
    "profile_points": {"birthday": 100, "gender": 25, "region": 25, "quiz": 50, "topics": 25},
}
POINTS_MAX = 1_000_000
PENDING_DAYS_MAX = 365


class ProgramError(FieldError):
    """Refused input of loyalty.program."""


def program_for(shop: Shop) -> Program:
    """The shop's program, created with the default rules on first use (earning from now on)."""
    program = Program.objects.for_shop(shop).first()
    if program is not None:
        return program
    try:
        with transaction.atomic():
            program = Program.objects.create(
                shop=shop,
                started_at=timezone.now(),
                rules=RULES_DEFAULT,
                incentive_notice=DEFAULT_INCENTIVE_NOTICE,
            )
            RulesVersion.objects.create(shop=shop, version=1, rules=RULES_DEFAULT)
    except IntegrityError:
        program = Program.objects.for_shop(shop).get()
    return program


@dataclass(frozen=True)
class Rules:
    """The earning rules of one version, typed."""

    version: int
    points_per_unit: Decimal
    pending_days: int
    join_points: int
    profile_points: dict[str, int]


def rules_of(program: Program) -> Rules:
    rules = {**RULES_DEFAULT, **program.rules}
    return Rules(
        version=program.rules_version,
        points_per_unit=Decimal(str(rules["points_per_unit"])),
        pending_days=int(rules["pending_days"]),
        join_points=int(rules["join_points"]),
        profile_points={name: int(points) for name, points in rules["profile_points"].items()},
    )


def rules_clean(data: Any) -> dict[str, Any]:
    """Submitted earning rules, checked and normalized, or ProgramError naming the field."""
    if not isinstance(data, dict):
        raise ProgramError("rules", "must be an object")
    try:
        per_unit = Decimal(str(data.get("points_per_unit", RULES_DEFAULT["points_per_unit"])))
    except InvalidOperation:
        raise ProgramError("rules.points_per_unit", "must be a number") from None
    if not Decimal("0") <= per_unit <= Decimal("1000"):
        raise ProgramError("rules.points_per_unit", "must be from 0 to 1000")
    pending = _whole(
        data.get("pending_days", RULES_DEFAULT["pending_days"]), "rules.pending_days", PENDING_DAYS_MAX
    )
    join = _whole(data.get("join_points", RULES_DEFAULT["join_points"]), "rules.join_points", POINTS_MAX)
    profile = data.get("profile_points", RULES_DEFAULT["profile_points"])
    if not isinstance(profile, dict) or not set(profile) <= set(PROFILE_WAYS):
        raise ProgramError("rules.profile_points", f"must map some of {', '.join(PROFILE_WAYS)} to points")
    return {
        "points_per_unit": str(per_unit.normalize()),
        "pending_days": pending,
        "join_points": join,
        "profile_points": {
            name: _whole(points, f"rules.profile_points.{name}", POINTS_MAX)
            for name, points in profile.items()
        },
    }


def _whole(value: Any, field: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise ProgramError(field, f"must be a whole number from 0 to {most}")
    return value


def rules_save(shop: Shop, rules: dict[str, Any]) -> Program:
    """Save earning rules (cleaned by rules_clean); a new version when they differ."""
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program_for(shop).pk)
        if program.rules == rules:
            return program
        program.rules_version += 1
        program.rules = rules
        program.save(update_fields=["rules", "rules_version", "updated_at"])
        RulesVersion.objects.create(shop=shop, version=program.rules_version, rules=rules)
    return program


POLICY_FIELDS = (
    "enabled",
    "expiry_mode",
    "expiry_days",
    "reminder_days",
    "refund_policy",
    "unused_code_policy",
    "tier_basis",
    "tier_period_days",
    "birthday_points",
    "birthday_reward",
    "holdout_percent",
    "incentive_notice",
)


def policies_save(shop: Shop, values: dict[str, Any]) -> Program:
    """Save the program's policies (validated by the API's serializer)."""
    program = program_for(shop)
    if "incentive_notice" in values and values["incentive_notice"] != program.incentive_notice:
        # A new text is a new version: shoppers who joined under the old one keep theirs on record.
        values["incentive_notice_version"] = str(int(program.incentive_notice_version or "0") + 1)
    for field, value in values.items():
        setattr(program, field, value)
    program.save()
    return program


def rewards_active(shop: Shop) -> list[Reward]:
    return list(Reward.objects.for_shop(shop).filter(active=True))


def reward_get(shop: Shop, reward_id: int) -> Reward | None:
    return Reward.objects.for_shop(shop).filter(pk=reward_id).first()


def tiers_of(shop: Shop) -> list[Tier]:
    return list(Tier.objects.for_shop(shop).order_by("threshold", "pk"))


def demo_program_seed(shop: Shop) -> Program:
    """A program a newcomer sees working at once: the default earning rules with a short pending
    period, three rewards and two tiers. Does nothing to a shop that has rewards already."""
    program = program_for(shop)
    if Reward.objects.for_shop(shop).exists():
        return program
    rules_save(shop, {**RULES_DEFAULT, "pending_days": 1})
    policies_save(shop, {"birthday_points": 200, "expiry_mode": Program.ExpiryMode.LOT, "expiry_days": 365})
    Reward.objects.create(
        shop=shop, name="5 off your order", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("5"), points_cost=100
    )
    Reward.objects.create(
        shop=shop,
        name="10% off your order",
        kind=Reward.Kind.PERCENTAGE,
        value=Decimal("10"),
        points_cost=250,
        minimum_order=Decimal("50"),
    )
    Reward.objects.create(shop=shop, name="Free shipping", kind=Reward.Kind.FREE_SHIPPING, points_cost=150)
    Tier.objects.create(shop=shop, name="Silver", threshold=Decimal("0"), multiplier=Decimal("1"))
    Tier.objects.create(
        shop=shop,
        name="Gold",
        threshold=Decimal("1000"),
        multiplier=Decimal("1.5"),
        benefits="1.5 points per unit spent",
    )
    return program
