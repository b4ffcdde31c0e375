"""Tiers: a member's tier follows what they earned (points, or spend) over the program's rolling
period; recalculated for the shop by beat, and for one member after each earning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from commerce.models import Order
from loyalty.ledger import EARNING_KINDS, member_changed_notify
from loyalty.models import Entry, Member, Program, Tier
from loyalty.program import program_for, tiers_of
from shop_app.models import Shop


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    metric: Decimal
    next_tier: Tier | None
    to_next: Decimal


def tier_metric(program: Program, member: Member, now: datetime) -> Decimal:
    since = now - timedelta(days=program.tier_period_days)
    if program.tier_basis == Program.TierBasis.SPEND:
        spent = (
            Order.objects.for_shop(program.shop)
            .filter(
                customer_shopify_id=member.customer_shopify_id,
                shopify_created_at__gte=since,
                cancelled_at__isnull=True,
            )
            .aggregate(total=Sum("subtotal_price"))["total"]
        )
        return Decimal(spent or 0)
    earned = (
        Entry.objects.for_shop(program.shop)
        .filter(member=member, created_at__gte=since, kind__in=list(EARNING_KINDS), points__gt=0)
        .aggregate(total=Sum("points"))["total"]
    )
    return Decimal(earned or 0)


def tier_for(tiers: list[Tier], metric: Decimal) -> Tier | None:
    reached = [tier for tier in tiers if tier.threshold <= metric]
    return reached[-1] if reached else None


def tier_recalculate(shop: Shop, member: Member, now: datetime | None = None) -> TierProgress:
    """Put the member in the tier their metric reaches (and record it); their progress."""
    now = now or timezone.now()
    program = program_for(shop)
    tiers = tiers_of(shop)
    metric = tier_metric(program, member, now)
    tier = tier_for(tiers, metric)
    if member.tier_id != (tier.pk if tier else None) or member.tier_metric != metric:
        Member.objects.filter(pk=member.pk).update(tier=tier, tier_metric=metric)
        if member.tier_id != (tier.pk if tier else None):
            member_changed_notify(shop, member.customer_shopify_id)
        member.tier, member.tier_metric = tier, metric
    above = [candidate for candidate in tiers if candidate.threshold > metric]
    next_tier = above[0] if above else None
    return TierProgress(
        tier, metric, next_tier, (next_tier.threshold - metric) if next_tier else Decimal("0")
    )


def tiers_recalculate_shop(shop: Shop, now: datetime | None = None) -> int:
    """Beat, nightly: every member's tier. Returns how many members were looked at."""
    count = 0
    for member in Member.objects.for_shop(shop).select_related("tier").iterator():
        tier_recalculate(shop, member, now)
        count += 1
    return count
