"""Keeping profiles true: one shopper's at once after an order, refund or fact; every shopper's
nightly, in chunks, with the shop's parameters refitted first.

Both paths end in personalize.profiles.profiles_compute over arrays read set-based
(personalize.history), so they agree by construction. Work runs as shop jobs (shop_app.jobs):
- `personalize.profile_refresh` (key: the shopper's Shopify id), queued after the change commits;
- `personalize.profiles_recompute` (one per shop): fits the parameters, then one chunk of
  shoppers per step, its progress in a ProfileRun, resuming where a dead worker left off.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from commerce.backfill import backfill_latest_for_shop
from commerce.models import Backfill, Customer, Order
from personalize.clv import clv_fit, clv_input_from_orders
from personalize.facts import facts_told_in
from personalize.history import Catalog, Shoppers, catalog_prices_cents, history_load
from personalize.models import Fact, Profile, ProfileRun, ProfileSettings, ShopProfileModel
from personalize.profiles import (
    DAY_SECONDS,
    DEFAULT_GAP_DAYS,
    HORIZON_DAYS,
    ShopParameters,
    profiles_compute,
    quintile_breaks,
    tercile_breaks,
    typical_gaps,
)
from personalize.shopify_sync import metafields_sync_later, metafields_value
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

PROFILE_REFRESH = "personalize.profile_refresh"
PROFILES_RECOMPUTE = "personalize.profiles_recompute"
CHUNK_SHOPPERS = 5_000
# While the store's history is being imported, a recompute waits this long and looks again.
IMPORT_WAIT_SECONDS = 15.0
PROFILE_FIELDS = [
    field.name
    for field in Profile._meta.get_fields()
    if getattr(field, "concrete", False)
    and field.name not in {"id", "shop", "customer_shopify_id", "metafields_written"}
]


def profile_settings(shop: Shop) -> ProfileSettings:
    settings, _ = ProfileSettings.objects.get_or_create(shop=shop)
    return settings


def shop_parameters(shop: Shop) -> ShopParameters | None:
    model = ShopProfileModel.objects.for_shop(shop).first()
    return ShopParameters.from_json(model.parameters) if model else None


# --- One shopper ---------------------------------------------------------------------------------


def profile_refresh_later(shop: Shop, customer_shopify_id: int) -> None:
    """Queue the shopper's profile to be computed again (once, however many changes arrive)."""
    job_enqueue(shop, PROFILE_REFRESH, key=str(customer_shopify_id))


def profile_refresh(shop: Shop, customer_shopify_id: int, *, as_of: date | None = None) -> Profile | None:
    """Compute one shopper's profile now, against the shop's fitted parameters. Before the shop's
    first fit there is nothing to measure against: the full recompute is queued instead, and it
    covers this shopper."""
    parameters = shop_parameters(shop)
    if parameters is None:
        job_enqueue(shop, PROFILES_RECOMPUTE)
        return None
    profiles_store(
        shop,
        Shoppers.one(customer_shopify_id),
        parameters,
        as_of or timezone.localdate(),
        include=[customer_shopify_id],
    )
    return Profile.objects.for_shop(shop).filter(customer_shopify_id=customer_shopify_id).first()


def profile_refresh_handler(job: Job) -> None:
    profile_refresh(job.shop, int(job.key))


# --- Every shopper --------------------------------------------------------------------------------


def shop_parameters_fit(shop: Shop, as_of: date) -> ShopParameters:
    """Fit what profiles are measured against on every buyer of the shop: one pass over the orders
    (no lines), NumPy for the rest."""
    history = history_load(shop, Shoppers(), Catalog({}, {}), lines=False)
    buyers = history.customers.size
    as_of_day = (np.datetime64(as_of, "D").astype(np.int64) + 1) * 1.0
    order_count = np.bincount(history.order_customer, minlength=buyers)
    spent = np.bincount(history.order_customer, weights=history.order_cents, minlength=buyers)
    last = np.full(buyers, -np.inf)
    np.maximum.at(last, history.order_customer, history.order_time)
    bought = order_count > 0
    days_since_last = np.floor(as_of_day - last[bought] / DAY_SECONDS)
    gaps = typical_gaps(history.order_customer, history.order_time, buyers)
    known_gaps = gaps[~np.isnan(gaps)]
    clv = clv_fit(
        clv_input_from_orders(
            history.order_customer, history.order_time / DAY_SECONDS, history.order_cents / 100.0, as_of_day
        ),
        HORIZON_DAYS,
    )
    return ShopParameters(
        half_life_days=float(profile_settings(shop).taste_half_life_days),
        recency_breaks=quintile_breaks(days_since_last),
        frequency_breaks=quintile_breaks(order_count[bought]),
        monetary_breaks=quintile_breaks(spent[bought]),
        price_breaks=tercile_breaks(catalog_prices_cents(shop)),
        typical_gap_days=float(np.median(known_gaps)) if known_gaps.size else DEFAULT_GAP_DAYS,
        clv=clv.to_json(),
        currency=shop.currency or _orders_currency(shop),
    )


def profiles_recompute_step(shop: Shop, *, as_of: date | None = None) -> bool:
    """One step of the shop's full recompute: start a run (fitting the parameters), or compute the
    next chunk of shoppers. True when the run is done."""
    as_of = as_of or timezone.localdate()
    run = ProfileRun.objects.for_shop(shop).filter(status=ProfileRun.Status.RUNNING).order_by("-pk").first()
    if run is None:
        parameters = shop_parameters_fit(shop, as_of)
        with transaction.atomic():
            ShopProfileModel.objects.update_or_create(
                shop=shop,
                defaults={
                    "parameters": parameters.to_json(),
                    "fitted_at": timezone.now(),
                    "customers": _shoppers(shop).count(),
                    "orders": Order.objects.for_shop(shop).filter(customer_shopify_id__isnull=False).count(),
                },
            )
            ProfileRun.objects.create(
                shop=shop, started_at=timezone.now(), customers_total=_shoppers(shop).count()
            )
        return False
    fitted = shop_parameters(shop)
    assert fitted is not None, "a run starts by fitting the parameters"
    chunk = _next_shoppers(shop, run.next_customer_shopify_id, CHUNK_SHOPPERS)
    if not chunk:
        ProfileRun.objects.filter(pk=run.pk).update(status=ProfileRun.Status.DONE, finished_at=timezone.now())
        return True
    low, high = run.next_customer_shopify_id, chunk[-1]
    with transaction.atomic():
        profiles_store(shop, Shoppers(low, high), fitted, as_of)
        ProfileRun.objects.filter(pk=run.pk).update(
            customers_done=run.customers_done + len(chunk), next_customer_shopify_id=high + 1
        )
    return False


def profiles_recompute_handler(job: Job) -> float | None:
    if import_in_progress(job.shop):
        return IMPORT_WAIT_SECONDS  # profiles of half a history would be wrong, and soon redone
    return None if profiles_recompute_step(job.shop) else 0


def import_in_progress(shop: Shop) -> bool:
    backfill = backfill_latest_for_shop(shop)
    return backfill is not None and backfill.status in (Backfill.Status.PENDING, Backfill.Status.RUNNING)


def profiles_recompute_later(shop: Shop) -> None:
    """Queue the shop's full recompute (after install it waits for the import to finish)."""
    job_enqueue(shop, PROFILES_RECOMPUTE)


def profiles_recompute_all_shops() -> int:
    """Beat, nightly: one full recompute per installed shop."""
    shops = list(Shop.objects.installed())
    for shop in shops:
        profiles_recompute_later(shop)
    return len(shops)


def profiles_recompute_all(shop: Shop, *, as_of: date | None = None) -> None:
    """The whole run at once (the demo's seed and the tests; workers go step by step)."""
    while not profiles_recompute_step(shop, as_of=as_of):
        pass


# --- Storing --------------------------------------------------------------------------------------


def profiles_store(
    shop: Shop,
    selection: Shoppers,
    parameters: ShopParameters,
    as_of: date,
    *,
    include: list[int] | None = None,
) -> int:
    """Compute and upsert the profiles of the shoppers `selection` picks. Returns how many."""
    history = history_load(shop, selection, Catalog.load(shop), include=include or ())
    told = facts_told_in(Fact.objects.for_shop(shop).filter(selection.on("customer_shopify_id")))
    now = timezone.now()
    rows = [
        Profile(shop=shop, computed_at=now, metafields_value=metafields_value(values), **values)
        for values in profiles_compute(history, told, parameters, as_of)
    ]
    Profile.objects.bulk_create(
        rows,
        batch_size=1_000,
        update_conflicts=True,
        unique_fields=["shop", "customer_shopify_id"],
        update_fields=PROFILE_FIELDS,
    )
    transaction.on_commit(lambda: metafields_sync_later(shop))
    return len(rows)


def _shoppers(shop: Shop) -> Any:
    """Every shopper of a shop worth a profile, by Shopify id: buyers and known customers."""
    return _buyers(shop).union(_known(shop))


def _next_shoppers(shop: Shop, start: int, limit: int) -> list[int]:
    """The next `limit` shoppers from Shopify id `start` on, in order. Two index range scans."""
    buyers = _buyers(shop).filter(customer_shopify_id__gte=start).distinct().order_by("customer_shopify_id")
    known = _known(shop).filter(shopify_id__gte=start).order_by("shopify_id")
    return sorted(set(buyers[:limit]) | set(known[:limit]))[:limit]


def _buyers(shop: Shop) -> Any:
    return (
        Order.objects.for_shop(shop)
        .filter(customer_shopify_id__isnull=False)
        .values_list("customer_shopify_id", flat=True)
    )


def _known(shop: Shop) -> Any:
    return (
        Customer.objects.for_shop(shop)
        .filter(deleted_at__isnull=True, redacted_at__isnull=True)
        .values_list("shopify_id", flat=True)
    )


def _orders_currency(shop: Shop) -> str:
    return Order.objects.for_shop(shop).values_list("currency", flat=True).first() or ""
