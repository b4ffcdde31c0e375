"""Precomputing recommendation candidates per shop: the engine (personalize.recommend) fitted on
the shop's kept purchases, then written as CandidateLists for every shopper, for the shop and each
of its countries (trending), and for every product (bought together). Serving
(personalize.picks) reads these and re-ranks at request time.

A shop job (`personalize.candidates_precompute`) runs it after the profiles' full recompute and,
coalesced, a few minutes after shoppers' profiles change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from personalize.history import Catalog, Shoppers, history_load
from personalize.models import CandidateList, Profile
from personalize.picks import picks_keep_all
from personalize.profiles import DAY_SECONDS
from personalize.recommend import (
    Candidate,
    Purchases,
    engine_candidates,
    engine_fit,
    engine_related,
    engine_trending,
)
from personalize.refresh import profile_refresh_handler, profiles_recompute_handler, profiles_refresh_handler
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

CANDIDATES_PRECOMPUTE = "personalize.candidates_precompute"
# Serving filters and re-ranks, so it needs more candidates than it shows.
KEPT_PER_SHOPPER = 60
KEPT_PER_PRODUCT = 24
KEPT_TRENDING = 120
# Changes to profiles within this many seconds are taken in one precompute.
COALESCE_SECONDS = 300.0
# Shoppers per engine_candidates call: its coverage allocation spreads the catalog over each
# batch's lists (personalize.recommend), so a batch is large, and bounded for memory.
BATCH = 2_000


def candidates_precompute_later(shop: Shop, *, delay: float = COALESCE_SECONDS) -> None:
    job_enqueue(shop, CANDIDATES_PRECOMPUTE, delay=delay)


def candidates_precompute_handler(job: Job) -> None:
    candidates_precompute(job.shop)


def profiles_recompute_then_candidates(job: Job) -> float | None:
    """The profiles' full recompute (personalize.refresh), then the candidates, which read the
    profiles' countries: queued the moment the last chunk of profiles is written."""
    again = profiles_recompute_handler(job)
    if again is None:
        candidates_precompute_later(job.shop, delay=0)
    return again


def profiles_refresh_then_candidates(job: Job) -> None:
    """The same for a batch of shoppers (the buyers of a worker's batch of order events)."""
    profiles_refresh_handler(job)
    candidates_precompute_later(job.shop)


def profile_refresh_then_candidates(job: Job) -> None:
    """One shopper's profile, then the shop's candidates a few minutes later, coalesced with
    every other change in between (the engine learns from the whole shop at once)."""
    profile_refresh_handler(job)
    candidates_precompute_later(job.shop)


def candidates_precompute(shop: Shop, *, as_of: date | None = None) -> int:
    """Fit the shop's engine and write every audience's candidates. Returns how many lists."""
    as_of = as_of or timezone.localdate()
    history = history_load(shop, Shoppers(), Catalog({}, {}))
    kept = history.line_kept > 0
    products, items = np.unique(history.line_product[kept], return_inverse=True)
    if products.size == 0:
        return 0
    purchases = Purchases(
        customer=history.line_customer[kept],
        item=items.astype(np.int64),
        day=history.line_time[kept] / DAY_SECONDS,
        quantity=history.line_kept[kept].astype(np.float64),
        order=history.line_order_id[kept],
    )
    as_of_day = (np.datetime64(as_of, "D").astype(np.int64) + 1) * 1.0
    engine = engine_fit(purchases, int(history.customers.size), int(products.size), as_of_day)

    def as_json(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
        return [candidate_json(candidate, products) for candidate in candidates]

    lists: dict[str, list[dict[str, Any]]] = {}
    buyers = np.unique(history.line_customer[kept])
    for start in range(0, buyers.size, BATCH):
        chunk = buyers[start : start + BATCH]
        for customer, candidates in zip(
            chunk.tolist(), engine_candidates(engine, chunk, KEPT_PER_SHOPPER), strict=True
        ):
            lists[f"shopper:{int(history.customers[customer])}"] = as_json(candidates)
    lists["trending"] = as_json(engine_trending(engine, KEPT_TRENDING))
    for country, customers in _customers_by_country(shop, history.customers).items():
        lists[f"trending:{country}"] = as_json(engine_trending(engine, KEPT_TRENDING, customers))
    for item, product_id in enumerate(products.tolist()):
        lists[f"related:{product_id}"] = as_json(engine_related(engine, item, KEPT_PER_PRODUCT))
    before = (
        CandidateList.objects.for_shop(shop).filter(audience="trending").values_list("computed_at").first()
    )
    candidate_lists_store(shop, lists)
    picks_keep_all(shop, _changed_since(shop, before[0] if before else None, history.customers[buyers]))
    return len(lists)


def _changed_since(shop: Shop, lists_before: datetime | None, buyers: np.ndarray[Any, Any]) -> list[int]:
    """The buyers whose "for you" these lists rank again (personalize.served): those whose profile
    was computed since the lists before these (every buyer after the nightly recompute, or when
    there were none), whose own history changed what they are ranked from. The others keep the
    block ranked today: new lists move their candidates only by what other shoppers did."""
    if lists_before is None:
        return buyers.tolist()
    changed = Profile.objects.for_shop(shop).filter(computed_at__gte=lists_before)
    return sorted(set(buyers.tolist()) & set(changed.values_list("customer_shopify_id", flat=True)))


def candidate_json(candidate: Candidate, products: np.ndarray[Any, Any]) -> dict[str, Any]:
    """A candidate as stored: the engine's item indexes turned into Shopify product ids."""
    if candidate.kind == "repeat":
        evidence = {"orders": [int(order) for order in candidate.evidence]}
    elif candidate.evidence:
        evidence = {"products": [int(products[item]) for item in candidate.evidence]}
    else:
        evidence = {}
    return {
        "product": int(products[candidate.item]),
        "score": round(float(candidate.score), 6),
        "kind": candidate.kind,
        "evidence": evidence,
    }


def _customers_by_country(shop: Shop, customers: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Each country's shoppers (indexes into `customers`), from their profiles."""
    by_country: dict[str, list[int]] = {}
    for customer_id, country in (
        Profile.objects.for_shop(shop)
        .exclude(country_code="")
        .values_list("customer_shopify_id", "country_code")
    ):
        by_country.setdefault(country, []).append(customer_id)
    result = {}
    for country, ids in by_country.items():
        indexes = np.searchsorted(customers, np.array(sorted(ids), dtype=np.int64))
        present = indexes < customers.size
        indexes = indexes[present][customers[indexes[present]] == np.array(sorted(ids))[present]]
        if indexes.size:
            result[country] = indexes.astype(np.int64)
    return result


def candidate_lists_store(shop: Shop, lists: dict[str, list[dict[str, Any]]]) -> None:
    """Replace the shop's lists with these (audiences no longer computed are removed)."""
    now = timezone.now()
    rows = [
        CandidateList(shop=shop, audience=audience, candidates=items, computed_at=now)
        for audience, items in lists.items()
    ]
    with transaction.atomic():
        CandidateList.objects.bulk_create(
            rows,
            batch_size=1_000,
            update_conflicts=True,
            unique_fields=["shop", "audience"],
            update_fields=["candidates", "computed_at"],
        )
        CandidateList.objects.for_shop(shop).filter(computed_at__lt=now).delete()
