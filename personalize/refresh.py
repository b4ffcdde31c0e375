"""Keeping profiles true: one shopper's at once after an order, refund or fact; every shopper's
nightly, in chunks, with the shop's parameters refitted first.

Both paths end in personalize.profiles.profiles_columns over arrays read set-based
(personalize.history), so they agree by construction. Work runs as shop jobs (shop_app.jobs):
- `personalize.profile_refresh` (key: the shopper's Shopify id), queued after the change commits;
- `personalize.profiles_refresh` (the shoppers in its arguments): the same for a batch of changes;
- `personalize.profiles_recompute` (one per shop): fits the parameters, then one chunk of
  shoppers per step, its progress in a ProfileRun, resuming where a dead worker left off. A step
  reads its shoppers' history once, then computes and stores them a chunk at a time, the next
  chunk computed in a thread while this one is stored (`_computed_ahead`).

Profiles are stored in bulk (`profiles_upsert`): on PostgreSQL a COPY into a temporary table, its
text built a column at a time (personalize.profile_text), and one INSERT ... ON CONFLICT; a few
(one shopper's refresh), and any on SQLite (the demo), by Django's bulk upsert.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

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
from personalize.profile_text import profiles_copy_text
from personalize.profiles import (
    DAY_SECONDS,
    DEFAULT_GAP_DAYS,
    HORIZON_DAYS,
    History,
    Ints,
    ProfileColumns,
    ShopParameters,
    ToldFacts,
    distinct,
    profile_dicts,
    profiles_columns,
    quintile_breaks,
    tercile_breaks,
    typical_gaps,
)
from personalize.served import served_forget
from personalize.shopify_sync import metafields_sync_later, metafields_values
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
# Profiles stored at once beyond which their shop's kept blocks are all forgotten, not one by one.
SERVED_FORGET_MOST = 1_000
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
_COLUMN_OF = {field.name: str(field.column) for field in Profile._meta.concrete_fields}
_COLUMNS = [_COLUMN_OF[name] for name in ["shop", *UPSERT_FIELDS]]
_UPSERT_TABLE = (
    "CREATE TEMPORARY TABLE profile_upsert ON COMMIT DROP AS"  # noqa: S608 - identifiers from the model
    f" SELECT {', '.join(_COLUMNS)} FROM {Profile._meta.db_table} WITH NO DATA"
)
_UPSERT_COPY = f"COPY profile_upsert ({', '.join(_COLUMNS)}) FROM STDIN"
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
    history, told = profiles_read(shop, Shoppers(low, high))
    computed_at = timezone.now()

    def computed(start: int, end: int) -> ComputedProfiles:
        return profiles_of(
            shop.pk, history.shoppers(start, end), told, fitted, as_of=as_of, computed_at=computed_at
        )

    # Stored a chunk at a time, each in a transaction with the run's progress: a worker dying
    # mid-step loses the chunk under way only, and the next step starts after the last one stored.
    ends = [*range(CHUNK_SHOPPERS, shoppers.size, CHUNK_SHOPPERS), shoppers.size]
    bounds = np.searchsorted(history.customers, shoppers[np.array(ends) - 1], side="right").tolist()
    chunks = _computed_ahead(computed, list(zip([0, *bounds], bounds, strict=False)))
    for done, profiles in zip(ends, chunks, strict=True):
        last = int(shoppers[done - 1])
        progress: dict[str, Any] = {
            "customers_done": run.customers_done + done,
            "next_customer_shopify_id": last + 1,
        }
        if high is None and done == shoppers.size:
            progress.update(status=ProfileRun.Status.DONE, finished_at=timezone.now())
        with transaction.atomic():
            profiles_upsert(shop, profiles)
            transaction.on_commit(lambda: metafields_sync_later(shop))
            ProfileRun.objects.filter(pk=run.pk).update(**progress)
    return high is None


def _computed_ahead(
    computed: Callable[[int, int], ComputedProfiles], chunks: list[tuple[int, int]]
) -> Iterator[ComputedProfiles]:
    """The profiles of each chunk of shoppers (`computed(start, end)`), with their COPY text when
    they will be stored by COPY, each chunk's computed in a thread while the caller stores the one
    before: storing mostly waits on the database, which it does without holding the GIL, so the
    computing of the next chunk and the storing of this one overlap. The thread only computes
    (pure functions of the arrays already read): the database is the caller's."""
    copied = [_copied(end - start) for start, end in chunks]

    def prepared(start: int, end: int, copy: bool) -> ComputedProfiles:
        profiles = computed(start, end)
        return profiles.with_copy_text() if copy else profiles

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="profiles-ahead") as worker:
        pending = [worker.submit(prepared, *chunks[0], copied[0])] if chunks else []
        try:
            for (start, end), copy in zip(chunks[1:], copied[1:], strict=True):
                ready = pending.pop().result()
                pending.append(worker.submit(prepared, start, end, copy))
                yield ready
            if pending:
                yield pending.pop().result()
        finally:
            for future in pending:
                future.cancel()


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


@dataclass(frozen=True)
class ComputedProfiles:
    """Profiles ready to store: their fields, when they were computed and what their metafields
    should say (one per shopper, aligned with `columns.customers`); and once built, their rows as
    COPY's text (`with_copy_text`)."""

    shop_id: int
    columns: ProfileColumns
    computed_at: datetime
    metafields: list[str]
    copy_text: str | None = None

    def __len__(self) -> int:
        return len(self.columns)

    def dicts(self) -> list[dict[str, Any]]:
        """Each profile as the values of `UPSERT_FIELDS`."""
        profiles = profile_dicts(self.columns)
        for values, metafields in zip(profiles, self.metafields, strict=True):
            values["computed_at"] = self.computed_at
            values["metafields_value"] = metafields
        return profiles

    def with_copy_text(self) -> ComputedProfiles:
        """The same profiles with their rows as COPY's text (`_copy_text`)."""
        return replace(self, copy_text=_copy_text(self))


def _copy_text(profiles: ComputedProfiles) -> str:
    """The rows of the temporary table (`_COLUMNS`) as COPY's text."""
    return profiles_copy_text(
        profiles.columns,
        ["shop", *UPSERT_FIELDS],
        {
            "shop": str(profiles.shop_id),
            "computed_at": profiles.computed_at.isoformat(),
            "metafields_value": profiles.metafields,
        },
    )


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
) -> ComputedProfiles:
    """The profiles of the shoppers `selection` picks (and of `include`), ready to store, in order
    of their Shopify ids."""
    history, told = profiles_read(shop, selection, include=include)
    return profiles_of(shop.pk, history, told, parameters, as_of=as_of, computed_at=timezone.now())


def profiles_read(
    shop: Shop, selection: Shoppers, *, include: list[int] | None = None
) -> tuple[History, dict[int, ToldFacts]]:
    """What the profiles of the shoppers `selection` picks (and of `include`) are computed from:
    their history and what they told."""
    history = history_load(shop, selection, Catalog.load(shop), include=include or ())
    told = facts_told_in(Fact.objects.for_shop(shop).filter(selection.on("customer_shopify_id")))
    return history, told


def profiles_of(
    shop_id: int,
    history: History,
    told: Mapping[int, ToldFacts],
    parameters: ShopParameters,
    *,
    as_of: date,
    computed_at: datetime,
) -> ComputedProfiles:
    """The profiles of the shoppers of `history`, ready to store (no database: a thread may ask)."""
    columns = profiles_columns(history, told, parameters, as_of)
    return ComputedProfiles(shop_id, columns, computed_at, metafields_values(columns))


def profiles_upsert(shop: Shop, profiles: ComputedProfiles) -> None:
    """Insert or update the shop's profiles, by shopper: on PostgreSQL, a chunk's by COPY; a few
    (one shopper's refresh), and any on SQLite (the demo), by Django's bulk upsert, one statement
    where COPY's temporary table would cost more."""
    if _copied(len(profiles)):
        _profiles_copy_upsert(shop, profiles)
    else:
        _profiles_bulk_upsert(shop, profiles.dicts())
    # Their kept blocks were ranked from the profiles before these; a whole chunk of a recompute
    # forgets the shop's at once.
    customers = profiles.columns.customers
    served_forget(shop, None if len(customers) > SERVED_FORGET_MOST else customers.tolist())


def _copied(profiles: int) -> bool:
    """Whether this many profiles are stored by COPY."""
    return connection.vendor == "postgresql" and profiles >= COPY_FROM_PROFILES


def _profiles_copy_upsert(shop: Shop, profiles: ComputedProfiles) -> None:
    """COPY the rows, as text built column by column (personalize.profile_text), into a temporary
    table, then one INSERT ... ON CONFLICT from it: no model instance, no Python object per value."""
    assert profiles.shop_id == shop.pk, "profiles are stored in the shop they were computed for"
    text = profiles.copy_text if profiles.copy_text is not None else _copy_text(profiles)
    # In a savepoint: the temporary table lives for this upsert only (dropped at its end, or with
    # the rollback), so several upserts in one transaction never meet each other's rows.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT_TABLE)
        with cursor.copy(_UPSERT_COPY) as copy:
            copy.write(text)
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
    """Every shopper of a shop worth a profile, by Shopify id: buyers and known customers. The
    buyers made distinct first, along their index: the union then sorts a shopper once, not once
    per order (twice as fast on a million orders)."""
    return _buyers(shop).distinct().union(_known(shop))


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
