"""The ledger: the one way points change (entry_append), the balances derived from it, and the
check that the cached balance equals it.

Every write to a member's points happens inside a transaction holding that member's row lock
(member_locked), so two changes of one member's points are serialized by the database: two
redemptions cannot both see the same available points. Different members never wait on each
other. See loyalty.models for the invariants.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from loyalty.models import Entry, LedgerDifference, Lot, LotDraw, Member, Program
from shop_app.models import Shop

logger = logging.getLogger(__name__)

# Kinds whose points count as earned (the lifetime figure, tiers on points).
EARNING_KINDS = frozenset(
    {Entry.Kind.EARN, Entry.Kind.PROFILE, Entry.Kind.JOIN, Entry.Kind.BIRTHDAY, Entry.Kind.ADJUST}
)


class LedgerError(Exception):
    """A change of points refused; `field` names the input, for the 400/409 that reports it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotEnoughPoints(LedgerError):
    def __init__(self, available: int, needed: int) -> None:
        super().__init__("points", f"{needed} points needed, {available} available")
        self.available = available
        self.needed = needed


class Shortfall:
    """What a negative entry does when the lots hold less than it takes."""

    REFUSE = "refuse"  # raise NotEnoughPoints (nothing written)
    NEGATIVE = "negative"  # take it all: the balance goes below zero, settled by the next lot
    STOP_AT_ZERO = "stop_at_zero"  # take what is there, record the rest as debt


@dataclass(frozen=True)
class Balances:
    available: int
    pending: int
    lifetime: int
    debt: int
    balance: int


# --- Members -------------------------------------------------------------------------------------

# Called after commit with (shop, customer id) when a member's points or tier changed: the theme
# mirror (loyalty.mirror registers it in AppConfig.ready).
_CHANGED: list[Callable[[Shop, int], None]] = []


def member_changed_register(callback: Callable[[Shop, int], None]) -> None:
    if callback not in _CHANGED:
        _CHANGED.append(callback)


def member_changed_notify(shop: Shop, customer_id: int) -> None:
    for callback in _CHANGED:
        transaction.on_commit(lambda callback=callback: callback(shop, customer_id))  # type: ignore[misc]


def member_get(shop: Shop, customer_id: int) -> Member | None:
    return Member.objects.for_shop(shop).filter(customer_shopify_id=customer_id).first()


def member_get_or_create(shop: Shop, customer_id: int, program: Program | None = None) -> Member:
    """The shopper's member row, created on first use (in the holdout group with the program's
    probability, drawn once)."""
    member = member_get(shop, customer_id)
    if member is not None:
        return member
    percent = program.holdout_percent if program is not None else 0
    try:
        with transaction.atomic():
            return Member.objects.create(
                shop=shop,
                customer_shopify_id=customer_id,
                holdout=percent > 0 and random.random() * 100 < percent,  # noqa: S311 - not security
            )
    except IntegrityError:  # created by a concurrent request between our read and our insert
        return Member.objects.for_shop(shop).get(customer_shopify_id=customer_id)


def member_locked(shop: Shop, customer_id: int, program: Program | None = None) -> Member:
    """The member row, locked until the caller's transaction ends (which it must have opened)."""
    member = member_get_or_create(shop, customer_id, program)
    return Member.objects.select_for_update().get(pk=member.pk)


# --- Balances ------------------------------------------------------------------------------------


def balances_of(member: Member, now: datetime | None = None) -> Balances:
    """Available, pending, lifetime and debt. Pending: lots still in their pending period.
    Available: the rest of the balance, less lots past their expiry that the expiry job has not
    reached yet (negative when points are owed)."""
    now = now or timezone.now()
    held = Lot.objects.filter(member=member, remaining__gt=0).aggregate(
        pending=Coalesce(Sum("remaining", filter=Q(available_at__gt=now)), 0),
        expired=Coalesce(Sum("remaining", filter=Q(available_at__lte=now, expires_at__lte=now)), 0),
    )
    return Balances(
        available=member.balance - held["pending"] - held["expired"],
        pending=held["pending"],
        lifetime=member.lifetime,
        debt=member.debt,
        balance=member.balance,
    )


def _usable(now: datetime) -> Q:
    return Q(available_at__lte=now) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


# --- The one way points change ------------------------------------------------------------------


def entry_exists(shop: Shop, key: str) -> bool:
    return Entry.objects.for_shop(shop).filter(idempotency_key=key).exists()


def entry_append(  # noqa: PLR0912 - one place for every kind of change, on purpose
    member: Member,
    *,
    points: int,
    kind: str,
    cause: str,
    key: str,
    now: datetime | None = None,
    rules_version: int | None = None,
    available_at: datetime | None = None,
    expires_at: datetime | None = None,
    order_shopify_id: int | None = None,
    consent_id: int | None = None,
    reason: str = "",
    actor: str = "",
    from_lot: Lot | None = None,
    usable_only: bool = False,
    shortfall: str = Shortfall.REFUSE,
    debt: int = 0,
) -> Entry | None:
    """Append one entry to a member locked by member_locked (in the caller's transaction) and
    update the cached balance. None when an entry with this idempotency key exists (the cause was
    seen before): nothing is written.

    A positive entry opens a lot (available at `available_at`, default now; expiring at
    `expires_at`), which first settles points owed. A negative entry draws from `from_lot` first
    (a claw-back hits the lot its order earned), then from the member's other lots (only spendable
    ones with `usable_only`: a redemption), oldest expiry first; what the lots cannot cover follows
    `shortfall`. `debt` records points not taken on top (a claw-back past what can be taken)."""
    if points == 0 and debt == 0:
        raise LedgerError("points", "must not be zero")
    now = now or timezone.now()
    shop = member.shop
    if entry_exists(shop, key):
        return None
    entry = Entry(
        shop=shop,
        member=member,
        points=points,
        kind=kind,
        cause=cause[:255],
        idempotency_key=key,
        rules_version=rules_version,
        order_shopify_id=order_shopify_id,
        consent_id=consent_id,
        reason=reason[:500],
        actor=actor[:64],
        available_at=(available_at or now) if points > 0 else None,
        created_at=now,
        debt=debt,
    )
    if points > 0:
        entry.save()
        lot = Lot.objects.create(
            shop=shop,
            member=member,
            entry=entry,
            points=points,
            remaining=points,
            available_at=available_at or now,
            expires_at=expires_at,
        )
        owed = max(0, -member.balance)
        if owed:
            settled = min(owed, points)
            LotDraw.objects.create(shop=shop, entry=entry, lot=lot, points=settled)
            Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - settled)
    elif points < 0:
        wanted = -points
        draws = _draws(member, wanted, now, from_lot=from_lot, usable_only=usable_only)
        drawn = sum(amount for _, amount in draws)
        if drawn < wanted:
            if shortfall == Shortfall.REFUSE:
                raise NotEnoughPoints(available=drawn, needed=wanted)
            if shortfall == Shortfall.STOP_AT_ZERO:
                entry.points = -drawn
                entry.debt += wanted - drawn
        if entry.points == 0 and entry.debt == 0:
            return None
        entry.save()
        for lot, amount in draws:
            LotDraw.objects.create(shop=shop, entry=entry, lot=lot, points=amount)
            Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - amount)
    else:
        entry.save()  # debt alone
    lifetime_change = 0
    if kind in EARNING_KINDS and entry.points > 0:
        lifetime_change = entry.points
    elif kind == Entry.Kind.CLAWBACK:
        lifetime_change = entry.points - entry.debt
    member.balance += entry.points
    member.lifetime += lifetime_change
    member.debt += entry.debt
    changes: dict[str, object] = {"balance": member.balance, "lifetime": member.lifetime, "debt": member.debt}
    if kind not in (Entry.Kind.EXPIRE, Entry.Kind.CLAWBACK):
        member.last_activity_at = now
        member.inactivity_reminded_at = None
        changes |= {"last_activity_at": now, "inactivity_reminded_at": None}
    Member.objects.filter(pk=member.pk).update(**changes)
    member_changed_notify(shop, member.customer_shopify_id)
    return entry


def _draws(
    member: Member, wanted: int, now: datetime, *, from_lot: Lot | None, usable_only: bool
) -> list[tuple[Lot, int]]:
    """Which lots give how much: `from_lot` first, then spendable lots by expiry (soonest first,
    then oldest), then, unless `usable_only`, pending lots."""
    lots: list[Lot] = []
    if from_lot is not None:
        from_lot.refresh_from_db(fields=["remaining"])
        lots.append(from_lot)
    others = Lot.objects.filter(member=member, remaining__gt=0)
    if from_lot is not None:
        others = others.exclude(pk=from_lot.pk)
    usable = others.filter(_usable(now)).order_by(F("expires_at").asc(nulls_last=True), "available_at", "pk")
    lots.extend(usable)
    if not usable_only:
        lots.extend(others.filter(available_at__gt=now).order_by("available_at", "pk"))
    draws = []
    for lot in lots:
        if wanted <= 0:
            break
        amount = min(lot.remaining, wanted)
        if amount > 0:
            draws.append((lot, amount))
            wanted -= amount
    return draws


# --- The check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    customer_shopify_id: int
    field: str
    cached: int
    ledger: int


def ledger_differences(shop: Shop, members: Iterable[Member] | None = None) -> list[Difference]:
    """Every cached figure that does not equal what the ledger says, and every lot whose remaining
    does not equal its points less its draws. Empty when all is well."""
    rows = (
        Member.objects.for_shop(shop)
        if members is None
        else Member.objects.filter(pk__in=[member.pk for member in members])
    )
    clawback = Q(kind=Entry.Kind.CLAWBACK)
    earning = Q(kind__in=list(EARNING_KINDS), points__gt=0)
    sums = {
        row["member"]: row
        for row in Entry.objects.for_shop(shop)
        .values("member")
        .annotate(
            sum_balance=Coalesce(Sum("points"), 0),
            sum_debt=Coalesce(Sum("debt"), 0),
            sum_lifetime=Coalesce(
                Sum(
                    Case(
                        When(earning, then=F("points")),
                        When(clawback, then=F("points") - F("debt")),
                        default=Value(0),
                        output_field=IntegerField(),
                    )
                ),
                0,
            ),
        )
    }
    held = {
        row["member"]: row["remaining"]
        for row in Lot.objects.for_shop(shop)
        .values("member")
        .annotate(remaining=Coalesce(Sum("remaining"), 0))
    }
    differences = []
    for member in rows:
        ledger = sums.get(member.pk, {"sum_balance": 0, "sum_debt": 0, "sum_lifetime": 0})
        for field in ("balance", "lifetime", "debt"):
            if getattr(member, field) != ledger[f"sum_{field}"]:
                differences.append(
                    Difference(
                        member.customer_shopify_id, field, getattr(member, field), ledger[f"sum_{field}"]
                    )
                )
        owed_lots = max(ledger["sum_balance"], 0)
        if held.get(member.pk, 0) != owed_lots:
            differences.append(
                Difference(member.customer_shopify_id, "lots", held.get(member.pk, 0), owed_lots)
            )
    drawn = {
        row["lot"]: row["points"]
        for row in LotDraw.objects.for_shop(shop).values("lot").annotate(points=Coalesce(Sum("points"), 0))
    }
    lots = Lot.objects.for_shop(shop).select_related("member")
    if members is not None:
        lots = lots.filter(member__in=rows)
    for lot in lots:
        if lot.remaining != lot.points - drawn.get(lot.pk, 0):
            differences.append(
                Difference(
                    lot.member.customer_shopify_id,
                    f"lot {lot.pk}",
                    lot.remaining,
                    lot.points - drawn.get(lot.pk, 0),
                )
            )
    return differences


def ledger_check(shop: Shop) -> list[Difference]:
    """Beat, nightly: prove every cached balance equals the ledger; record and report any
    difference (never corrected silently: a difference is a bug to find)."""
    differences = ledger_differences(shop)
    members = {m.customer_shopify_id: m for m in Member.objects.for_shop(shop)}
    for difference in differences:
        member = members.get(difference.customer_shopify_id)
        if member is None:
            continue
        LedgerDifference.objects.create(
            shop=shop,
            member=member,
            field=difference.field[:32],
            cached=difference.cached,
            ledger=difference.ledger,
        )
    if differences:
        logger.error("loyalty ledger of %s: %d differences", shop.domain, len(differences))
    return differences
