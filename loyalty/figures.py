"""The program's figures for the merchant: points liability, redemption rate, and the repeat rate
of members against non-members (and against the holdout group, which earns nothing, so the lift
is measured rather than assumed)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from commerce.models import Order
from loyalty.models import Entry, Member
from shop_app.models import Shop


@dataclass(frozen=True)
class Figures:
    members: int
    points_liability: int
    points_earned: int
    points_redeemed: int
    redemption_rate: float | None
    repeat_rate_members: float | None
    repeat_rate_non_members: float | None
    repeat_rate_holdout: float | None
    holdout_members: int


def _repeat_rate(order_counts: dict[int, int], customers: set[int]) -> float | None:
    buyers = [customer for customer in customers if order_counts.get(customer, 0) > 0]
    if not buyers:
        return None
    return sum(1 for customer in buyers if order_counts[customer] >= 2) / len(buyers)


def program_figures(shop: Shop) -> Figures:
    members = Member.objects.for_shop(shop).filter(customer_shopify_id__gt=0)
    liability = members.filter(balance__gt=0).aggregate(total=Sum("balance"))["total"] or 0
    sums = Entry.objects.for_shop(shop).aggregate(
        earned=Sum("points", filter=Q(points__gt=0) & ~Q(kind__in=[Entry.Kind.REDEEM_RETURN])),
        redeemed=Sum("points", filter=Q(kind=Entry.Kind.REDEEM)),
        returned=Sum("points", filter=Q(kind=Entry.Kind.REDEEM_RETURN)),
    )
    earned = sums["earned"] or 0
    redeemed = -(sums["redeemed"] or 0) - (sums["returned"] or 0)
    counts: dict[int, int] = {
        customer: orders
        for customer, orders in Order.objects.for_shop(shop)
        .filter(customer_shopify_id__isnull=False, cancelled_at__isnull=True)
        .values_list("customer_shopify_id")
        .annotate(orders=Count("pk"))
        .values_list("customer_shopify_id", "orders")
        if customer is not None
    }
    in_program: set[int] = set(members.filter(holdout=False).values_list("customer_shopify_id", flat=True))
    holdout: set[int] = set(members.filter(holdout=True).values_list("customer_shopify_id", flat=True))
    others = set(counts) - in_program - holdout
    return Figures(
        members=len(in_program),
        points_liability=int(liability),
        points_earned=int(earned),
        points_redeemed=int(redeemed),
        redemption_rate=(redeemed / earned) if earned else None,
        repeat_rate_members=_repeat_rate(counts, in_program),
        repeat_rate_non_members=_repeat_rate(counts, others),
        repeat_rate_holdout=_repeat_rate(counts, holdout),
        holdout_members=len(holdout),
    )
