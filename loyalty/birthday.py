"""Birthday treats: once a year, on the day in the shop's time zone, points (or a reward's code)
and an email. Nothing in the 30 days after the birthday was set, and one treat a year whatever the
date says (the entry's key is the year), so moving the date earns nothing extra."""

from __future__ import annotations

import calendar
import logging
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from loyalty.earning import lot_expiry
from loyalty.emails import shopper_email_send
from loyalty.ledger import LedgerError, entry_append, member_locked
from loyalty.models import Entry, Member
from loyalty.program import program_for
from loyalty.redemption import redeem
from shop_app.models import Shop

logger = logging.getLogger(__name__)

BIRTHDAY_WAIT = timedelta(days=30)


def shop_today(shop: Shop, now: datetime) -> date:
    return now.astimezone(ZoneInfo(shop.timezone or "UTC")).date()


def birthdays_on(today: date) -> Q:
    """Members whose birthday is today; 29 February is kept on the 28th in other years."""
    matches = Q(birthday_month=today.month, birthday_day=today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        matches |= Q(birthday_month=2, birthday_day=29)
    return matches


def birthdays_award(shop: Shop, now: datetime | None = None) -> int:
    """Beat, hourly (so each shop's day starts on time): the treats of the day. Returns how many
    were given."""
    now = now or timezone.now()
    program = program_for(shop)
    if not program.enabled or (not program.birthday_points and program.birthday_reward is None):
        return 0
    today = shop_today(shop, now)
    given = 0
    members = Member.objects.for_shop(shop).filter(
        birthdays_on(today), birthday_set_at__lte=now - BIRTHDAY_WAIT, holdout=False
    )
    for member in members:
        if birthday_treat(shop, member.customer_shopify_id, today.year, now):
            given += 1
    return given


def birthday_treat(shop: Shop, customer_id: int, year: int, now: datetime) -> bool:
    """One member's treat for `year` (once: the key is the year). False when already given."""
    program = program_for(shop)
    key_points = None
    with transaction.atomic():
        member = member_locked(shop, customer_id, program)
        if member.birthday_set_at is None or member.birthday_set_at > now - BIRTHDAY_WAIT:
            return False
        points = program.birthday_points or (
            program.birthday_reward.points_cost if program.birthday_reward else 0
        )
        entry = entry_append(
            member,
            points=points,
            kind=Entry.Kind.BIRTHDAY,
            cause=f"birthday {year}",
            key=f"m{member.pk}:birthday:{year}",
            now=now,
            expires_at=lot_expiry(program, now),
        )
        if entry is None:
            return False
        key_points = points
    code = ""
    if program.birthday_reward is not None and not program.birthday_points:
        # The treat is a code: the points just given pay for it at once.
        try:
            result = redeem(
                shop, customer_id, program.birthday_reward.pk, f"birthday-{year}-{uuid.uuid4().hex[:8]}"
            )
            code = result.redemption.code
        except LedgerError:
            logger.warning("birthday reward of %s could not be issued", shop.domain)
    body = (
        f"Happy birthday! Your code: {code}"
        if code
        else f"Happy birthday! We added {key_points} points to your account."
    )
    transaction.on_commit(lambda: shopper_email_send(shop, customer_id, "Happy birthday", body))
    return True
