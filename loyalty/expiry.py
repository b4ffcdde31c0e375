"""Expiry: by lot (each award a set time after it is earned, oldest first) or after a set time
without activity, the merchant's choice; a reminder email before points expire."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from loyalty.emails import shopper_email_send
from loyalty.ledger import entry_append, member_locked
from loyalty.models import Entry, Lot, Member, Program
from loyalty.program import program_for
from shop_app.models import Shop


def lot_expire(shop: Shop, lot: Lot, now: datetime, cause: str) -> Entry | None:
    """Expire what is left of one lot (in its own transaction, under the member's lock)."""
    with transaction.atomic():
        member = member_locked(shop, Member.objects.get(pk=lot.member_id).customer_shopify_id)
        lot.refresh_from_db()
        if lot.remaining <= 0:
            return None
        return entry_append(
            member,
            points=-lot.remaining,
            kind=Entry.Kind.EXPIRE,
            cause=cause,
            key=f"lot:{lot.pk}:expired",
            now=now,
            from_lot=lot,
        )


def points_expire(shop: Shop, now: datetime | None = None) -> int:
    """Beat, hourly: expire what the program's policy says is due. Returns entries written."""
    now = now or timezone.now()
    program = program_for(shop)
    lots = Lot.objects.for_shop(shop).filter(remaining__gt=0)
    if program.expiry_mode == Program.ExpiryMode.LOT:
        due = lots.filter(expires_at__lte=now)
        cause = "points expired"
    elif program.expiry_mode == Program.ExpiryMode.INACTIVITY:
        idle = Member.objects.for_shop(shop).filter(
            last_activity_at__lt=now - timedelta(days=program.expiry_days)
        )
        due = lots.filter(member__in=idle)
        cause = f"no activity for {program.expiry_days} days"
    else:
        return 0
    written = 0
    for lot in due.order_by("expires_at", "pk")[:1000]:
        if lot_expire(shop, lot, now, cause) is not None:
            written += 1
    return written


def expiry_reminders_send(shop: Shop, now: datetime | None = None) -> int:
    """Beat, hourly: tell members whose points expire within the program's reminder days, once
    per lot (by lot) or per spell of inactivity. Returns emails sent."""
    now = now or timezone.now()
    program = program_for(shop)
    soon = now + timedelta(days=program.reminder_days)
    sent = 0
    if program.expiry_mode == Program.ExpiryMode.LOT:
        lots = Lot.objects.for_shop(shop).filter(
            remaining__gt=0, expires_at__gt=now, expires_at__lte=soon, reminded_at__isnull=True
        )
        by_member: dict[int, list[Lot]] = defaultdict(list)
        for lot in lots.select_related("member"):
            by_member[lot.member.customer_shopify_id].append(lot)
        for customer_id, member_lots in by_member.items():
            points = sum(lot.remaining for lot in member_lots)
            first = min(lot.expires_at for lot in member_lots if lot.expires_at)
            body = f"{points} of your points expire on {first.date().isoformat()}. Use them before then."
            Lot.objects.filter(pk__in=[lot.pk for lot in member_lots]).update(reminded_at=now)
            sent += shopper_email_send(shop, customer_id, "Your points expire soon", body)
    elif program.expiry_mode == Program.ExpiryMode.INACTIVITY:
        edge = now - timedelta(days=max(program.expiry_days - program.reminder_days, 0))
        members = Member.objects.for_shop(shop).filter(
            last_activity_at__lt=edge, inactivity_reminded_at__isnull=True, balance__gt=0
        )
        for member in members:
            assert member.last_activity_at is not None
            ends = member.last_activity_at + timedelta(days=program.expiry_days)
            Member.objects.filter(pk=member.pk).update(inactivity_reminded_at=now)
            on = ends.date().isoformat()
            body = f"Your {member.balance} points expire on {on} unless you use or earn some."
            sent += shopper_email_send(shop, member.customer_shopify_id, "Your points expire soon", body)
    return sent


def points_expiring_soon(member: Member, program: Program, now: datetime) -> int:
    if program.expiry_mode != Program.ExpiryMode.LOT:
        return 0
    soon = now + timedelta(days=program.reminder_days)
    total = Lot.objects.filter(
        member=member, remaining__gt=0, expires_at__gt=now, expires_at__lte=soon
    ).aggregate(total=Sum("remaining"))["total"]
    return int(total or 0)
