"""Earning and taking back: points for paid orders (pending for the return window), proportional
claw-back on refunds and cancellations, once-per-lifetime points for joining and for profile data.

Each function reads the state as it is (the order, its refunds) and appends the entries it implies
under idempotency keys from their causes, so it may run any number of times for the same change (a
webhook delivered twice, reconciliation after it): the second run finds every key written.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commerce.models import Order, Refund, RefundLine
from loyalty.ledger import LedgerError, Shortfall, entry_append, entry_exists, member_get, member_locked
from loyalty.models import Entry, Lot, Member, Program
from loyalty.program import program_for, rules_of
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

# Financial states of an order that has been paid (a refund does not undo the earning: its own
# claw-back does).
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


def lot_expiry(program: Program, available_at: datetime) -> datetime | None:
    if program.expiry_mode == Program.ExpiryMode.LOT:
        return available_at + timedelta(days=program.expiry_days)
    return None


def order_eligible_amount(order: Order) -> Decimal:
    """What earns: the items after discounts (Shopify's subtotal), no shipping, no tax."""
    return max(Decimal("0"), order.subtotal_price)


def order_points(program: Program, member: Member, order: Order) -> int:
    rules = rules_of(program)
    multiplier = member.tier.multiplier if member.tier is not None else Decimal("1")
    points = order_eligible_amount(order) * rules.points_per_unit * multiplier
    return int(points.to_integral_value(rounding=ROUND_DOWN))


def _earn_key(order: Order) -> str:
    return f"order:{order.shopify_id}:earn"


def points_sync_for_order(shop: Shop, order: Order, now: datetime | None = None) -> list[Entry]:
    """Bring the order's points in line with it: earn once it is paid (pending for the return
    window), take back in proportion to what was refunded, all of it if cancelled."""
    now = now or timezone.now()
    program = program_for(shop)
    if order.customer_shopify_id is None or not program.enabled:
        return []
    written: list[Entry] = []
    with transaction.atomic():
        earned = Entry.objects.for_shop(shop).filter(idempotency_key=_earn_key(order)).first()
        if earned is None and _earns(program, order):
            member = member_locked(shop, order.customer_shopify_id, program)
            points = 0 if member.holdout else order_points(program, member, order)
            if points > 0:
                rules = rules_of(program)
                available_at = now + timedelta(days=rules.pending_days)
                earned = entry_append(
                    member,
                    points=points,
                    kind=Entry.Kind.EARN,
                    cause=f"order {order.name or order.shopify_id}",
                    key=_earn_key(order),
                    now=now,
                    rules_version=rules.version,
                    available_at=available_at,
                    expires_at=lot_expiry(program, available_at),
                    order_shopify_id=order.shopify_id,
                )
                if earned is not None:
                    written.append(earned)
        if earned is not None:
            written.extend(_clawbacks(shop, program, order, earned, now))
    return written


def _earns(program: Program, order: Order) -> bool:
    placed = order.processed_at or order.shopify_created_at
    return (
        order.financial_status in PAID_STATUSES
        and order.cancelled_at is None
        and placed >= program.started_at
        and order.redacted_at is None
    )


def _clawbacks(shop: Shop, program: Program, order: Order, earned: Entry, now: datetime) -> list[Entry]:
    """Cumulative: after each refund the total taken is the earned points times the share of the
    eligible amount refunded so far, never more than earned; a cancellation takes the rest."""
    targets: list[tuple[str, str, int]] = []
    eligible = order_eligible_amount(order)
    refunded = Decimal("0")
    for refund in (
        Refund.objects.for_shop(shop)
        .filter(order_shopify_id=order.shopify_id)
        .order_by("shopify_created_at", "pk")
    ):
        refunded += _refunded_amount(shop, refund)
        share = min(Decimal("1"), refunded / eligible) if eligible > 0 else Decimal("1")
        target = int((earned.points * share).to_integral_value(rounding=ROUND_HALF_UP))
        targets.append(
            (f"refund:{refund.shopify_id}", f"refund {refund.shopify_id}", min(target, earned.points))
        )
    if order.cancelled_at is not None:
        targets.append(
            (
                f"order:{order.shopify_id}:cancel",
                f"order {order.name or order.shopify_id} cancelled",
                earned.points,
            )
        )
    if not targets:
        return []
    member = Member.objects.select_for_update().get(pk=earned.member_id)
    lot = Lot.objects.filter(entry=earned).first()
    policy = (
        Shortfall.NEGATIVE
        if program.refund_policy == Program.RefundPolicy.NEGATIVE
        else Shortfall.STOP_AT_ZERO
    )
    written = []
    for cause_key, cause, target in targets:
        taken = _taken(shop, order)
        if target <= taken:
            continue
        key = cause_key
        if entry_exists(shop, cause_key):
            # This refund took its share before an earlier one was known (refunds/create delivered
            # out of order): that one raised the cumulative target past it. The rest, keyed by the
            # target it reaches, so that a sync run again writes it once.
            key = f"{cause_key}:to:{target}"
        entry = entry_append(
            member,
            points=-(target - taken),
            kind=Entry.Kind.CLAWBACK,
            cause=cause,
            key=key,
            now=now,
            rules_version=earned.rules_version,
            order_shopify_id=order.shopify_id,
            from_lot=lot,
            shortfall=policy,
        )
        if entry is not None:
            written.append(entry)
            member.refresh_from_db()
    return written


def _taken(shop: Shop, order: Order) -> int:
    """Points taken back from an order so far, counting what was recorded as debt."""
    taken = (
        Entry.objects.for_shop(shop)
        .filter(order_shopify_id=order.shopify_id, kind=Entry.Kind.CLAWBACK)
        .aggregate(points=Sum("points"), debt=Sum("debt"))
    )
    return -(taken["points"] or 0) + (taken["debt"] or 0)


def _refunded_amount(shop: Shop, refund: Refund) -> Decimal:
    """The goods refunded (the lines' subtotals); the refund's amount when it names no line."""
    lines = RefundLine.objects.for_shop(shop).filter(refund=refund).aggregate(total=Sum("subtotal"))["total"]
    return lines if lines is not None else refund.amount


def points_sync_for_orders(shop: Shop, order_ids: list[int], refund_ids: list[int]) -> int:
    """For a ShopperChange: the orders (by row id) and the orders of the refunds. Returns the
    number of entries written."""
    orders = set(order_ids)
    for order_shopify_id in (
        Refund.objects.for_shop(shop).filter(pk__in=refund_ids).values_list("order_shopify_id", flat=True)
    ):
        found = (
            Order.objects.for_shop(shop)
            .filter(shopify_id=order_shopify_id)
            .values_list("pk", flat=True)
            .first()
        )
        if found is not None:
            orders.add(found)
    written = 0
    for order in Order.objects.for_shop(shop).filter(pk__in=orders).order_by("pk"):
        written += len(points_sync_for_order(shop, order))
    return written


ORDERS_SYNC = "loyalty.orders_sync"


def points_sync_later(shop: Shop, order_ids: list[int], refund_ids: list[int]) -> None:
    """Queue points_sync_for_orders as a shop job (retried if the database is away), keyed by
    what it names so that the same change queued twice while waiting runs once."""
    orders, refunds = sorted(set(order_ids)), sorted(set(refund_ids))
    key = hashlib.sha1(f"{orders}|{refunds}".encode(), usedforsecurity=False).hexdigest()
    job_enqueue(shop, ORDERS_SYNC, key=key, arguments={"order_ids": orders, "refund_ids": refunds})


def orders_sync_handler(job: Job) -> float | None:
    points_sync_for_orders(
        job.shop, list(job.arguments.get("order_ids", [])), list(job.arguments.get("refund_ids", []))
    )
    return None


# --- Joining and profile data --------------------------------------------------------------------


def member_join(shop: Shop, customer_id: int, notice_version: str, now: datetime | None = None) -> Member:
    """The shopper opts in to the program, having been shown the financial-incentive notice of
    this version (recorded): points for joining, once."""
    now = now or timezone.now()
    program = program_for(shop)
    if notice_version != program.incentive_notice_version:
        raise LedgerError("notice_version", "is not the notice in force: show the current one")
    with transaction.atomic():
        member = member_locked(shop, customer_id, program)
        if member.joined_at is None:
            member.joined_at = now
            member.incentive_notice_version = notice_version
            Member.objects.filter(pk=member.pk).update(joined_at=now, incentive_notice_version=notice_version)
        rules = rules_of(program)
        if rules.join_points and not member.holdout and program.enabled:
            entry_append(
                member,
                points=rules.join_points,
                kind=Entry.Kind.JOIN,
                cause="joined",
                key=f"m{member.pk}:join",
                now=now,
                rules_version=rules.version,
                expires_at=lot_expiry(program, now),
            )
    return member


def facts_award(
    shop: Shop,
    customer_id: int,
    told: Mapping[str, Any],
    consent_id: int | None,
    now: datetime | None = None,
) -> list[Entry]:
    """A shopper told us facts (personalize, after commit): keep the birthday for its treat, and
    give each fact's points once per lifetime to a member who joined (opted in to the notice)."""
    now = now or timezone.now()
    program = program_for(shop)
    written: list[Entry] = []
    with transaction.atomic():
        if "birthday" in told:
            birthday_record(shop, customer_id, told["birthday"], now)
        member = member_get(shop, customer_id)
        if member is None or member.joined_at is None or member.holdout or not program.enabled:
            return written
        member = member_locked(shop, customer_id, program)
        rules = rules_of(program)
        for name in told:
            points = rules.profile_points.get(name, 0)
            if points <= 0:
                continue
            entry = entry_append(
                member,
                points=points,
                kind=Entry.Kind.PROFILE,
                cause=f"profile {name}",
                key=f"m{member.pk}:profile:{name}",
                now=now,
                rules_version=rules.version,
                consent_id=consent_id,
                expires_at=lot_expiry(program, now),
            )
            if entry is not None:
                written.append(entry)
                member.refresh_from_db()
    return written


def birthday_record(shop: Shop, customer_id: int, value: Any, now: datetime) -> None:
    """Keep the birthday (month and day) for the yearly treat. A new date restarts the 30 days
    in which nothing is given, so moving it to tomorrow earns nothing."""
    if not isinstance(value, Mapping):
        return
    month, day = value.get("month"), value.get("day")
    if not isinstance(month, int) or not isinstance(day, int):
        return
    member = member_locked(shop, customer_id)
    if (member.birthday_month, member.birthday_day) == (month, day):
        return
    Member.objects.filter(pk=member.pk).update(birthday_month=month, birthday_day=day, birthday_set_at=now)
