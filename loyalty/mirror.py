"""Balance and tier mirrored into app-owned customer metafields (`$app.points_balance`,
`$app.tier`, declared in shopify.app.toml), so the theme and Shopify's own tools can read them.

A member carries what its metafields should say (`metafields_value`) and what was last written
(`metafields_written`); after a change the shop's sync job writes those that differ, a batch per
step, waiting when Shopify's cost bucket runs low (commerce.metafields)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from commerce.metafields import CustomerMetafields, customer_metafields_write
from loyalty.ledger import balances_of
from loyalty.models import Lot, Member
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

METAFIELDS_SYNC = "loyalty.metafields_sync"
SYNC_BATCH = 250


def metafields_for(member: Member, now: datetime | None = None) -> dict[str, str]:
    fields = {"points_balance": str(balances_of(member, now).available)}
    if member.tier is not None:
        fields["tier"] = member.tier.name
    return fields


def _value(fields: dict[str, str]) -> str:
    return "|".join(f"{key}={value}" for key, value in sorted(fields.items()))[:255]


def mirror_refresh(shop: Shop, customer_ids: list[int], now: datetime | None = None) -> int:
    """Recompute what the members' metafields should say; queue the sync if any changed."""
    changed = 0
    for member in (
        Member.objects.for_shop(shop).filter(customer_shopify_id__in=customer_ids).select_related("tier")
    ):
        value = _value(metafields_for(member, now))
        if value != member.metafields_value:
            Member.objects.filter(pk=member.pk).update(metafields_value=value)
            changed += 1
    if changed:
        transaction.on_commit(lambda: job_enqueue(shop, METAFIELDS_SYNC))
    return changed


def mirror_member_changed(shop: Shop, customer_id: int) -> None:
    """Registered with loyalty.ledger: runs after the commit of a change of points or tier."""
    mirror_refresh(shop, [customer_id])


def mirror_refresh_matured(shop: Shop, now: datetime | None = None) -> int:
    """Beat: points that became available (or expired) with time change what the theme shows."""
    now = now or timezone.now()
    customers = (
        Lot.objects.for_shop(shop)
        .filter(available_at__gt=now - timedelta(hours=2), available_at__lte=now)
        .values_list("member__customer_shopify_id", flat=True)
        .distinct()
    )
    return mirror_refresh(shop, list(customers), now)


def metafields_sync_step(shop: Shop) -> float | None:
    waiting = list(
        Member.objects.for_shop(shop)
        .exclude(metafields_value=F("metafields_written"))
        .exclude(metafields_value="")
        .filter(customer_shopify_id__gt=0)
        .order_by("customer_shopify_id")[:SYNC_BATCH]
    )
    if not waiting:
        return None
    values = [
        CustomerMetafields(
            member.customer_shopify_id,
            dict(part.split("=", 1) for part in member.metafields_value.split("|")),
        )
        for member in waiting
    ]
    result = customer_metafields_write(shop, values)
    unwritten = {item.customer_shopify_id for item in result.remaining}
    for member in waiting:
        if member.customer_shopify_id not in unwritten:
            Member.objects.filter(pk=member.pk, metafields_value=member.metafields_value).update(
                metafields_written=member.metafields_value
            )
    if not result.done:
        return result.retry_after or 1.0
    return 0.0 if len(waiting) == SYNC_BATCH else None


def metafields_sync_handler(job: Job) -> float | None:
    return metafields_sync_step(job.shop)
