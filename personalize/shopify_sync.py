"""Profiles back to Shopify: each shopper's segment, predicted 365-day orders and value and churn
risk, written to the app-owned customer metafields (shopify.app.toml) so the merchant's own
segments, Flow and email can use them.

A profile carries what its metafields should say (`metafields_value`) and what was last written
(`metafields_written`); the shop's sync job writes those that differ, a batch per step, and stops
when Shopify's cost bucket runs low, to carry on after the wait it names.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F

from commerce.metafields import CustomerMetafields, customer_metafields_write
from personalize.models import Profile, ProfileSettings
from personalize.profiles import ProfileColumns
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

METAFIELDS_SYNC = "personalize.metafields_sync"
SYNC_BATCH = 500
# The profile fields the metafields are made of, each formatted as Shopify's type for it wants.
METAFIELD_FORMATS = {
    "segment": "{}",
    "predicted_value_365d": "{:.2f}",
    "predicted_orders_365d": "{:.3f}",
    "churn_risk": "{:.4f}",
}
METAFIELD_SOURCES = tuple(METAFIELD_FORMATS)
# `metafields_value`'s text, its fields in the order of their names.
_VALUE_TEMPLATE = "|".join(f"{field}={METAFIELD_FORMATS[field]}" for field in sorted(METAFIELD_FORMATS))


def metafields_for(profile: dict[str, Any]) -> dict[str, str]:
    """The metafields of a profile (its field values), formatted as Shopify's types want them;
    none for a shopper with no order (no segment to say)."""
    if not profile["segment"]:
        return {}
    return {field: template.format(profile[field]) for field, template in METAFIELD_FORMATS.items()}


def metafields_value(profile: dict[str, Any]) -> str:
    """The metafields as one comparable string (what `metafields_value` holds)."""
    return "|".join(f"{key}={value}" for key, value in sorted(metafields_for(profile).items()))


def metafields_values(columns: ProfileColumns) -> list[str]:
    """`metafields_value` of each profile of `columns`, from the columns whole."""
    fields = {
        "segment": columns.segments,
        "predicted_value_365d": columns.predicted_value.tolist(),
        "predicted_orders_365d": columns.predicted_orders,
        "churn_risk": columns.churn_risk,
    }
    return [
        _VALUE_TEMPLATE.format(*values) if segment else ""
        for segment, *values in zip(
            columns.segments, *(fields[field] for field in sorted(METAFIELD_FORMATS)), strict=True
        )
    ]


def metafields_sync_later(shop: Shop) -> None:
    if ProfileSettings.objects.for_shop(shop).filter(metafields_sync=False).exists():
        return
    job_enqueue(shop, METAFIELDS_SYNC)


def metafields_sync_step(shop: Shop) -> float | None:
    """Write one batch of profiles whose metafields changed. None when none is left; otherwise the
    seconds to wait before the next batch (0 at once; more when Shopify's bucket ran low)."""
    if ProfileSettings.objects.for_shop(shop).filter(metafields_sync=False).exists():
        return None
    waiting = list(
        Profile.objects.for_shop(shop)
        .exclude(metafields_value=F("metafields_written"))
        .exclude(metafields_value="")
        .order_by("customer_shopify_id")[:SYNC_BATCH]
    )
    if not waiting:
        return None
    values = [
        CustomerMetafields(
            profile.customer_shopify_id,
            metafields_for({field: getattr(profile, field) for field in METAFIELD_SOURCES}),
        )
        for profile in waiting
    ]
    result = customer_metafields_write(shop, values)
    unwritten = {item.customer_shopify_id for item in result.remaining}
    with transaction.atomic():
        for profile in waiting:
            if profile.customer_shopify_id in unwritten:
                continue
            # A refused value is on record (commerce.metafields logs it) and not retried for ever:
            # it is marked as written until the profile changes again.
            Profile.objects.filter(pk=profile.pk, metafields_value=profile.metafields_value).update(
                metafields_written=profile.metafields_value
            )
    if result.errors:
        logger.warning("metafields: %d values refused by Shopify for %s", len(result.errors), shop.domain)
    if not result.done:
        return result.retry_after or 1.0
    return 0.0 if len(waiting) == SYNC_BATCH else None


def metafields_sync_handler(job: Job) -> float | None:
    return metafields_sync_step(job.shop)
