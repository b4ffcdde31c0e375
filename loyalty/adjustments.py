"""Manual adjustments by the merchant: audited (who, why, when), available at once."""

from __future__ import annotations

import uuid

from django.db import transaction

from loyalty.ledger import Shortfall, entry_append, member_locked
from loyalty.models import Entry
from loyalty.program import program_for
from shop_app.models import Shop


def points_adjust(
    shop: Shop, customer_id: int, points: int, reason: str, *, actor: str, key: str = ""
) -> Entry:
    """Add (or take, never below zero) points for a reason. The same `key` adjusts once."""
    program = program_for(shop)
    with transaction.atomic():
        member = member_locked(shop, customer_id, program)
        entry = entry_append(
            member,
            points=points,
            kind=Entry.Kind.ADJUST,
            cause="adjusted by the merchant",
            key=f"adjust:{key or uuid.uuid4().hex}",
            reason=reason,
            actor=actor,
            shortfall=Shortfall.REFUSE,
        )
        if entry is None:  # the same adjustment again
            return Entry.objects.filter(shop=shop).get(idempotency_key=f"adjust:{key}")
    return entry
