"""Keeping profiles true: one shopper's at once after an order, refund or fact; every shopper's
nightly, in chunks, with the shop's parameters refitted first.

Both paths end in personalize.profiles.profiles_compute over arrays read set-based
(personalize.history), so they agree by construction. Work runs as shop jobs (shop_app.jobs):
- `personalize.profile_refresh` (key: the shopper's Shopify id), queued after the change commits;
- `personalize.profiles_refresh` (the shoppers in its arguments): the same for a batch of changes;
- `personalize.profiles_recompute` (one per shop): fits the parameters, then one chunk of
  shoppers per step, its progress in a ProfileRun, resuming where a dead worker left off.

Profiles are stored in bulk (`profiles_upsert`): on PostgreSQL a binary COPY into a temporary
table and one INSERT ... ON CONFLICT; on SQLite (the demo) Django's bulk upsert.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import operator
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from commerce.backfill import backfill_latest_for_shop
from commerce.models import Backfill, Customer, Order
from personalize.clv import clv_fit, clv_input_from_orders
from personalize.facts import facts_told_in
from personalize.history import (
    INT,
    Catalog,
    Shoppers,
    buyers_orders_load,
    catalog_prices_cents,
    columns_read,
    history_load,
)
from personalize.models import Fact, Profile, ProfileRun, ProfileSettings, ShopProfileModel
from personalize.profiles import (
    DAY_SECONDS,
    DEFAULT_GAP_DAYS,
    HORIZON_DAYS,
    Ints,
    ShopParameters,
    distinct,
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
PROFILES_REFRESH = "personalize.profiles_refresh"
PROFILES_RECOMPUTE = "personalize.profiles_recompute"
# A step of the full recompute reads the orders and lines of as many shoppers as this many orders
# allow in one pass (some 200 MB of arrays at two lines an order): a shop of up to this many
# orders in one step, a greater one in a few, each reading the lines table once.
STEP_ORDERS = 2_000_000
# A step stores its profiles this many at a time, each chunk committed with the run's progress.
CHUNK_SHOPPERS = 20_000
# From this many profiles on, storing them by COPY beats one INSERT of them all.
COPY_FROM_PROFILES = 100
# While the store's history is being imported, a recompute waits this long and looks again.
IMPORT_WAIT_SECONDS = 15.0
PROFILE_FIELDS = [
    field.name
    for field in Profile._meta.get_fields()
    if getattr(field, "concrete", False)
    and field.name not in {"id", "shop", "customer_shopify_id", "metafields_written"}
]
# What profiles_upsert writes of each profile, and, on PostgreSQL, how (identifiers from the model,
# no values in the SQL).
UPSERT_FIELDS = ["customer_shopify_id", *PROFILE_FIELDS]
_JSON_FIELDS = frozenset(
    name for name in UPSERT_FIELDS if isinstance(Profile._meta.get_field(name), models.JSONField)
)
_COLUMN_OF = {field.name: str(field.column) for field in Profile._meta.concrete_fields}
_COLUMNS = [_COLUMN_OF[name] for name in ["shop", *UPSERT_FIELDS]]
_UPSERT_TABLE = (
    "CREATE TEMPORARY TABLE profile_upsert ON COMMIT DROP AS"  # noqa: S608 - identifiers from the model
    f" SELECT {', '.join(_COLUMNS)} FROM {Profile._meta.db_table} WITH NO DATA"
)
_UPSERT_TYPES = (
    "SELECT atttypid::int FROM pg_attribute"
    " WHERE attrelid = 'pg_temp.profile_upsert'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)
_UPSERT_COPY = f"COPY profile_upsert ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_UPSERT_INSERT = (
    f"INSERT INTO {Profile._meta.db_table} ({', '.join(_COLUMNS)}, metafields_written)"  # noqa: S608 - identifiers from the model
    f" SELECT {', '.join(_COLUMNS)}, '' FROM profile_upsert"
    " ON CONFLICT (shop_id, customer_shopify_id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS[2:])
)


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


def profiles_refresh_later(shop: Shop, customer_shopify_ids: Iterable[int]) -> None:
    """Queue these shoppers' profiles to be computed again, in one job: a worker's batch of order
    events names up to a hundred shoppers, and one job (one row, one wake-up, five queries) costs
    what one shopper's does. Keyed by the shoppers, like loyalty's orders sync."""
    shoppers = sorted(set(customer_shopify_ids))
    if not shoppers:
        return
    key = hashlib.sha1(repr(shoppers).encode(), usedforsecurity=False).hexdigest()
    job_enqueue(shop, PROFILES_REFRESH, key=key, arguments={"customer_shopify_ids": shoppers})


def profiles_refresh(shop: Shop, customer_shopify_ids: list[int], *, as_of: date | None = None) -> int:
    """profile_refresh for many shoppers at once. Returns how many profiles were stored."""
    parameters = shop_parameters(shop)
    if parameters is None:
        job_enqueue(shop, PROFILES_RECOMPUTE)
        return 0
    shoppers = Shoppers.named(customer_shopify_ids)
    return profiles_store(
        shop, shoppers, parameters, as_of or timezone.localdate(), include=list(shoppers.ids or ())
    )


def profiles_refresh_handler(job: Job) -> None:
    profiles_refresh(job.shop, [int(shopper) for shopper in job.arguments.get("customer_shopify_ids", [])])


# --- Every shopper --------------------------------------------------------------------------------


def shop_parameters_fit(shop: Shop, as_of: date) -> ShopParameters:
    """Fit what profiles are measured against on every buyer of the shop: one pass over the orders
    (the columns needed, no lines), NumPy for the rest."""
    customers, order_customer, order_time, order_cents = buyers_orders_load(shop)
    buyers = customers.size
    as_of_day = (np.datetime64(as_of, "D").astype(np.int64) + 1) * 1.0
    order_count = np.bincount(order_customer, minlength=buyers)
    spent = np.bincount(order_customer, weights=order_cents, minlength=buyers)
    last = np.full(buyers, -np.inf)
    np.maximum.at(last, order_customer, order_time)
    bought = order_count > 0
    days_since_last = np.floor(as_of_day - last[bought] / DAY_SECONDS)
    gaps = typical_gaps(order_customer, order_time, buyers)
    known_gaps = gaps[~np.isnan(gaps)]
    clv = clv_fit(
        clv_input_from_orders(order_customer, order_time / DAY_SECONDS, order_cents / 100.0, as_of_day),
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
    next shoppers, as many as `STEP_ORDERS` orders allow, from one pass over their orders and lines,
    and store them a chunk at a time. True when the run is done."""
    as_of = as_of or timezone.localdate()
    run = ProfileRun.objects.for_shop(shop).filter(status=ProfileRun.Status.RUNNING).order_by("-pk").first()
    if run is None:
        parameters = shop_parameters_fit(shop, as_of)
        customers = _shoppers(shop).count()
        with transaction.atomic():
            ShopProfileModel.objects.update_or_create(
                shop=shop,
                defaults={
                    "parameters": parameters.to_json(),
                    "fitted_at": timezone.now(),
                    "customers": customers,
                    "orders": Order.objects.for_shop(shop).filter(customer_shopify_id__isnull=False).count(),
                },
            )
            ProfileRun.objects.create(shop=shop, started_at=timezone.now(), customers_total=customers)
        return False
    fitted = shop_parameters(shop)
    assert fitted is not None, "a run starts by fitting the parameters"
    low = run.next_customer_shopify_id
    shoppers, high = _step_shoppers(shop, low)
    if shoppers.size == 0:
        ProfileRun.objects.filter(pk=run.pk).update(status=ProfileRun.Status.DONE, finished_at=timezone.now())
        return True
    profiles = profiles_computed(shop, Shoppers(low, high), fitted, as_of)
    profile_ids = [values["customer_shopify_id"] for values in profiles]
    # Stored a chunk at a time, each in a transaction with the run's progress: a worker dying
    # mid-step loses the chunk under way only, and the next step starts after the last one stored.
    stored = 0
    for done in [*range(CHUNK_SHOPPERS, shoppers.size, CHUNK_SHOPPERS), shoppers.size]:
        last = int(shoppers[done - 1])
        end = bisect.bisect_right(profile_ids, last, lo=stored)
        progress: dict[str, Any] = {
            "customers_done": run.customers_done + done,
            "next_customer_shopify_id": last + 1,
        }
        if high is None and done == shoppers.size:
            progress.update(status=ProfileRun.Status.DONE, finished_at=timezone.now())
        with transaction.atomic():
            profiles_upsert(shop, profiles[stored:end])
            transaction.on_commit(lambda: metafields_sync_later(shop))
            ProfileRun.objects.filter(pk=run.pk).update(**progress)
        stored = end
    return high is None


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
    profiles = profiles_computed(shop, selection, parameters, as_of, include=include)
    profiles_upsert(shop, profiles)
    transaction.on_commit(lambda: metafields_sync_later(shop))
    return len(profiles)


def profiles_computed(
    shop: Shop,
    selection: Shoppers,
    parameters: ShopParameters,
    as_of: date,
    *,
    include: list[int] | None = None,
) -> list[dict[str, Any]]:
    """The profiles of the shoppers `selection` picks (and of `include`), ready to store, in order
    of their Shopify ids."""
    history = history_load(shop, selection, Catalog.load(shop), include=include or ())
    told = facts_told_in(Fact.objects.for_shop(shop).filter(selection.on("customer_shopify_id")))
    profiles = profiles_compute(history, told, parameters, as_of)
    now = timezone.now()
    for values in profiles:
        values["computed_at"] = now
        values["metafields_value"] = metafields_value(values)
    return profiles


def profiles_upsert(shop: Shop, profiles: list[dict[str, Any]]) -> None:
    """Insert or update the shop's profiles (each the values of `UPSERT_FIELDS`), by shopper: on
    PostgreSQL, a chunk's by COPY; a few (one shopper's refresh), and any on SQLite (the demo),
    by Django's bulk upsert, one statement where COPY's temporary table would cost more."""
    if connection.vendor == "postgresql" and len(profiles) >= COPY_FROM_PROFILES:
        _profiles_copy_upsert(shop, profiles)
    else:
        _profiles_bulk_upsert(shop, profiles)


def _profiles_copy_upsert(shop: Shop, profiles: list[dict[str, Any]]) -> None:
    """COPY the rows (binary, each value dumped by the driver for its column's type) into a
    temporary table, then one INSERT ... ON CONFLICT from it: no model instances, no parameter
    per value."""
    values_of = operator.itemgetter(*UPSERT_FIELDS)
    json_positions = [position for position, name in enumerate(UPSERT_FIELDS, 1) if name in _JSON_FIELDS]
    # In a savepoint: the temporary table lives for this upsert only (dropped at its end, or with
    # the rollback), so several upserts in one transaction never meet each other's rows.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT_TABLE)
        cursor.execute(_UPSERT_TYPES)
        types = [oid for (oid,) in cursor.fetchall()]
        with cursor.copy(_UPSERT_COPY) as copy:
            copy.set_types(types)
            for values in profiles:
                row = [shop.pk, *values_of(values)]
                for position in json_positions:
                    row[position] = Jsonb(row[position])
                copy.write_row(row)
        cursor.execute(_UPSERT_INSERT)
        cursor.execute("DROP TABLE profile_upsert")


def _profiles_bulk_upsert(shop: Shop, profiles: list[dict[str, Any]]) -> None:
    Profile.objects.bulk_create(
        [Profile(shop=shop, **values) for values in profiles],
        batch_size=1_000,
        update_conflicts=True,
        unique_fields=["shop", "customer_shopify_id"],
        update_fields=PROFILE_FIELDS,
    )


def _shoppers(shop: Shop) -> Any:
    """Every shopper of a shop worth a profile, by Shopify id: buyers and known customers."""
    return _buyers(shop).union(_known(shop))


def _step_shoppers(shop: Shop, start: int) -> tuple[Ints, int | None]:
    """The shoppers of the next step, from Shopify id `start` on (their Shopify ids, ascending),
    and the last Shopify id the step covers (None: to the end). As many whole buyers as
    `STEP_ORDERS` orders allow (at least one), and the known customers among them. Two index
    range scans of ids only."""
    buyers = _buyers(shop).filter(customer_shopify_id__gte=start).order_by("customer_shopify_id")
    (buyer_ids,) = columns_read(buyers[: STEP_ORDERS + 1], (INT,))
    buyer_ids = np.sort(buyer_ids)
    high = None
    if buyer_ids.size > STEP_ORDERS:
        # Whole shoppers only: up to the one the limit cut (the first alone if it cut them).
        cut = int(buyer_ids[STEP_ORDERS])
        high = cut - 1 if cut > buyer_ids[0] else cut
        buyer_ids = buyer_ids[buyer_ids <= high]
    known = _known(shop).filter(shopify_id__gte=start)
    if high is not None:
        known = known.filter(shopify_id__lte=high)
    (known_ids,) = columns_read(known, (INT,))
    return distinct(np.concatenate([buyer_ids, known_ids])), high


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
