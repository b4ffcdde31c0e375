"""What shoppers do with the blocks: impressions, clicks, adds to cart and "not for me", stored as
StorefrontEvents (all of a batch or none); a dismissal also becomes a Dismissal, so the product is
not proposed again. Clicks attribute orders placed within 7 days to their block (the overview)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from personalize.models import StorefrontEvent
from personalize.picks import dismissal_record
from personalize.quiz import WHY
from personalize.rules import BLOCKS
from shop_app.errors import FieldError
from shop_app.models import Shop

EVENTS_MAX = 50
VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Where events come from: the recommendation blocks and the quiz.
SOURCES = (*BLOCKS, "quiz")


class EventError(FieldError):
    """Refused input of personalize.feedback."""


def storefront_events_record(shop: Shop, events: Any, *, visitor: str, customer_id: int | None) -> int:
    """Check every event, then store them all. Returns how many."""
    if visitor and not VISITOR.match(visitor):
        raise EventError("visitor", "must be 8 to 64 letters, digits, - or _")
    if customer_id is None and not visitor:
        raise EventError("visitor", "is required for a guest")
    if not isinstance(events, list) or not 1 <= len(events) <= EVENTS_MAX:
        raise EventError("events", f"must be 1 to {EVENTS_MAX} events")
    now = timezone.now()
    rows = [
        _event(shop, index, event, visitor=visitor, customer_id=customer_id, now=now)
        for index, event in enumerate(events)
    ]
    with transaction.atomic():
        StorefrontEvent.objects.bulk_create(rows)
        if customer_id is not None:
            for row in rows:
                if row.kind == StorefrontEvent.Kind.DISMISS:
                    dismissal_record(shop, customer_id, row.product_shopify_id, reason=row.reason)
    return len(rows)


def _event(
    shop: Shop, index: int, event: Any, *, visitor: str, customer_id: int | None, now: Any
) -> StorefrontEvent:
    field = f"events[{index}]"
    if not isinstance(event, dict):
        raise EventError(field, "must be an object with type, block and product_id")
    kind, block, product_id = event.get("type"), event.get("block"), event.get("product_id")
    reason = event.get("reason", "") or ""
    if kind not in StorefrontEvent.Kind.values:
        raise EventError(f"{field}.type", f"must be one of {', '.join(StorefrontEvent.Kind.values)}")
    if block not in SOURCES:
        raise EventError(f"{field}.block", f"must be one of {', '.join(SOURCES)}")
    if not isinstance(product_id, int) or isinstance(product_id, bool) or not 0 < product_id < 2**63:
        raise EventError(f"{field}.product_id", "must be a product id")
    if reason and (kind != StorefrontEvent.Kind.DISMISS or reason not in WHY):
        raise EventError(f"{field}.reason", f"only a dismissal has a reason: {', '.join(WHY)}")
    return StorefrontEvent(
        shop=shop,
        visitor=visitor,
        customer_shopify_id=customer_id,
        kind=kind,
        block=block,
        product_shopify_id=product_id,
        reason=reason,
        at=now,
    )
