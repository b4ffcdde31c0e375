"""Serving recommendations: the precomputed candidates of a block (personalize.candidates), then,
at request time, what only the request knows:

1. drop what the shopper cannot or will not buy: not active, excluded by the merchant, dismissed
   ("not for me"), in a category they told us is not for them, out of stock in their size, or
   against their season (no winter coat where it is warm now, no swimwear where it is cold);
2. boost what they told us they like, what fits their season and climate, their tastes;
3. diversify and keep the merchant's discovery share for products outside their usual categories
   (personalize.recommend.rerank), pinned products first;
4. give every item its reason, with its evidence, in the shopper's language.

A signed-in shopper's "for you" (the block on every page) is kept once ranked and read back while
it is still true (personalize.served); the candidates' precompute ranks the changed shoppers' at
once (`picks_keep_all`), so their first page reads it too.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from commerce.catalog_memory import ServedProduct, ServedVariant, catalog_memory
from commerce.models import CollectionMembership, Order, OrderLine, Product
from personalize.climate import Climate, climate_for, season_on
from personalize.facts import facts_current
from personalize.history import variant_size
from personalize.models import CandidateList, Dismissal, Fact, Profile, RecommendationSettings
from personalize.pixel import VIEW_TASTE_WEIGHT, Browsing, browsing_for, browsings_for
from personalize.reasons import Names, Reason, reason_texts
from personalize.recommend import Candidate, FloatArray, category_codes, rerank
from personalize.rules import block_limit, recommendation_settings
from personalize.served import Kept, Slot, served_forget, served_read, served_store
from shop_app.models import Shop

# Season tags a merchant puts on products, and the season each means.
SEASON_TAGS = {
    "summer": "warm",
    "warm-weather": "warm",
    "winter": "cold",
    "cold-weather": "cold",
    "spring": "mild",
    "autumn": "mild",
    "fall": "mild",
}
CLASHES = {("cold", "warm"), ("warm", "cold")}  # (product's season, shopper's season)
SEASON_BOOST = 1.3
TOLD_BOOST = 1.5
BACK_IN_SIZE_DAYS = 30
# Told favourite categories weigh this much against candidates scored 1 for a shopper with no
# order, fading as orders accrue: they drive the cold start and step back as history speaks.
TOLD_WEIGHT = 1.0
TOLD_FADE_ORDERS = 3
# Trending fills a list up, after what the shopper's own history and words suggest.
TRENDING_WEIGHT = 0.5
# What goes with the products a shopper viewed lately: fresh intent, a little above their history.
VIEWED_WEIGHT = 1.2
# Of a block's candidates, the best this many per place go to the diversification (_best_per_place).
RERANK_POOL_PER_PLACE = 5
# The block kept for a signed-in shopper's next page (personalize.served): the one on every page.
KEPT_BLOCK = "for-you"
# Shoppers ranked together when every kept block is ranked again (picks_keep_all).
KEEP_CHUNK = 1_000


@dataclass(frozen=True)
class Pick:
    product: ServedProduct
    variant: ServedVariant
    reason: Reason


@dataclass(frozen=True)
class ReasonContext:
    shopper: Shopper
    season: str | None
    # Products of the categories the shopper told us they like, with the category.
    told: Mapping[int, str]


@dataclass
class Shopper:
    """What serving knows of who is asking (all empty for a guest)."""

    customer_id: int | None = None
    profile: Profile | None = None
    told: Mapping[str, Fact] = field(default_factory=dict)
    dismissed: set[int] = field(default_factory=set)
    climate: Climate | None = None
    # What the web pixel saw them browse (personalize.pixel), for the blocks that use it.
    browsing: Browsing | None = None
    # The products of the categories they told us they like: read once per request, or given by a
    # batch that read them once for every shopper who likes the same.
    favourites_in_catalog: Mapping[int, str] | None = field(default=None, repr=False)

    def favourite_products(self, shop: Shop) -> Mapping[int, str]:
        """The products of their favourite categories, with the category (one query, once)."""
        if self.favourites_in_catalog is None:
            favourites = self.told_list(Fact.Name.FAVOURITE_CATEGORIES)
            self.favourites_in_catalog = _products_in_categories(shop, favourites) if favourites else {}
        return self.favourites_in_catalog

    @functools.cached_property
    def sizes(self) -> dict[str, str]:
        if self.profile is None:
            return {}
        return {product_type: entry["size"] for product_type, entry in (self.profile.sizes or {}).items()}

    @property
    def usual_categories(self) -> list[str]:
        if self.profile is None:
            return []
        return list((self.profile.affinities or {}).get("product_type", {}))

    def told_list(self, name: str) -> list[str]:
        fact = self.told.get(name)
        return list(fact.value or []) if fact is not None else []


def shopper_for(shop: Shop, customer_id: int | None) -> Shopper:
    if customer_id is None:
        return Shopper(climate=_climate_of(shop, None))
    return shoppers_for(shop, [customer_id])[customer_id]


def shoppers_for(shop: Shop, customer_ids: Iterable[int]) -> dict[int, Shopper]:
    """shopper_for for many customers: their profiles, facts and dismissals in one query each."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    profiles = {
        profile.customer_shopify_id: profile
        for profile in Profile.objects.for_shop(shop).filter(customer_shopify_id__in=ids)
    }
    told = facts_current(shop, ids)
    dismissed: dict[int, set[int]] = {customer_id: set() for customer_id in ids}
    for customer_id, product_id in (
        Dismissal.objects.for_shop(shop)
        .filter(customer_shopify_id__in=ids)
        .values_list("customer_shopify_id", "product_shopify_id")
    ):
        dismissed[customer_id].add(product_id)
    return {
        customer_id: Shopper(
            customer_id=customer_id,
            profile=profiles.get(customer_id),
            told=told.get(customer_id, {}),
            dismissed=dismissed[customer_id],
            climate=_climate_of(shop, profiles.get(customer_id)),
        )
        for customer_id in ids
    }


def _climate_of(shop: Shop, profile: Profile | None) -> Climate | None:
    """Where the shopper lives, else where the shop is."""
    if profile is not None and profile.country_code:
        return climate_for(profile.country_code, profile.region_code)
    return climate_for(shop.country) if shop.country else None


def dismissal_record(shop: Shop, customer_id: int, product_id: int, *, reason: str = "") -> None:
    """The shopper said "not for me" (and maybe why): never propose this product to them again,
    and push down what shares its type and vendor."""
    Dismissal.objects.update_or_create(
        shop=shop,
        customer_shopify_id=customer_id,
        product_shopify_id=product_id,
        defaults={"dismissed_at": timezone.now(), "reason": reason},
    )
    served_forget(shop, [customer_id])


# --- The blocks ----------------------------------------------------------------------------------


def picks_for(
    shop: Shop,
    block: str,
    *,
    customer_id: int | None,
    product_id: int | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> list[Pick]:
    """The items of a block for this visit, best first, each with its reason."""
    return block_picks(shop, block, customer_id=customer_id, product_id=product_id, limit=limit, today=today)[
        0
    ]


def block_picks(
    shop: Shop,
    block: str,
    *,
    customer_id: int | None,
    product_id: int | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> tuple[list[Pick], Names | None]:
    """picks_for, with the names the picks' reasons cite when they were read with them (a kept
    block, personalize.served), else None. A signed-in shopper's "for you" is read back while it
    is still true, and kept once ranked."""
    today = today or timezone.localdate()
    settings, rules = serving_rules(shop)
    limit = block_limit(settings, block, limit)
    slot = Slot(block, limit, today, rules)
    keeper = customer_id if block == KEPT_BLOCK else None
    if keeper is not None:
        kept = served_read(shop, keeper, slot)
        picks = _picks_kept(shop, kept) if kept is not None else None
        if kept is not None and picks is not None:
            return picks, picks_names(shop, picks, orders=kept.orders)
    shopper = shopper_for(shop, customer_id)
    if block == "for-you" and customer_id is not None:
        shopper.browsing = browsing_for(shop, customer_id, today=today)
    season = season_on(shopper.climate, today) if shopper.climate else None
    candidates = _candidates(shop, block, shopper, product_id=product_id, season=season, today=today)
    picks = picks_rank(
        shop,
        shopper,
        candidates,
        limit=limit,
        discovery=block == "for-you",
        pinned=block == "for-you",
        settings=settings,
        today=today,
    )
    if keeper is None:
        return picks, None
    names = picks_names(shop, picks)
    served_store(shop, slot, [_kept(keeper, picks, names)])
    return picks, names


def picks_keep_all(shop: Shop, customer_ids: Sequence[int], *, today: date | None = None) -> int:
    """Rank these shoppers' kept block ("for you", at its limit) and keep it, as block_picks would
    on their next page, a chunk of shoppers at a time: what ranking reads, read once per chunk.
    The candidates' precompute calls it, so a shopper's first page after it is a read. Returns
    how many blocks were kept."""
    today = today or timezone.localdate()
    settings, rules = serving_rules(shop)
    slot = Slot(KEPT_BLOCK, block_limit(settings, KEPT_BLOCK, None), today, rules)
    favourites: dict[tuple[str, ...], Mapping[int, str]] = {}
    kept = 0
    for start in range(0, len(customer_ids), KEEP_CHUNK):
        shoppers = shoppers_for(shop, customer_ids[start : start + KEEP_CHUNK])
        browsing = browsings_for(shop, list(shoppers), today=today)
        for customer_id, shopper in shoppers.items():
            shopper.browsing = browsing[customer_id]
            told = tuple(shopper.told_list(Fact.Name.FAVOURITE_CATEGORIES))
            if told not in favourites:
                favourites[told] = shopper.favourite_products(shop)
            shopper.favourites_in_catalog = favourites[told]
        stored = _stored_many(shop, {a for shopper in shoppers.values() for a in _for_you_audiences(shopper)})
        ranked = {
            customer_id: picks_rank(
                shop,
                shopper,
                _for_you(shop, shopper, stored),
                limit=slot.limit,
                discovery=True,
                pinned=True,
                settings=settings,
                today=today,
            )
            for customer_id, shopper in shoppers.items()
        }
        names = picks_names(shop, [pick for picks in ranked.values() for pick in picks])
        served_store(shop, slot, [_kept(customer_id, picks, names) for customer_id, picks in ranked.items()])
        kept += len(ranked)
    return kept


def serving_rules(shop: Shop) -> tuple[RecommendationSettings, str]:
    """The merchant's rules and their fingerprint, held with the catalog in memory: a change to
    them moves the catalog's version on (personalize.apps), and what was kept under other rules is
    not read back."""
    memory = catalog_memory(shop)
    held: tuple[RecommendationSettings, str] | None = memory.derived.get("rules")
    if held is None:
        settings = recommendation_settings(shop)
        rules = json.dumps(
            [
                settings.discovery_share,
                settings.pinned_product_ids,
                settings.excluded_product_ids,
                settings.block_limits,
            ],
            sort_keys=True,
        )
        held = memory.derived["rules"] = (settings, hashlib.sha256(rules.encode()).hexdigest()[:32])
    return held


def _kept(customer_id: int, picks: Sequence[Pick], names: Names) -> Kept:
    return Kept(
        customer_id=customer_id,
        picks=[
            {
                "product": pick.product.shopify_id,
                "variant": pick.variant.shopify_id,
                "kind": pick.reason.kind,
                "evidence": dict(pick.reason.evidence),
            }
            for pick in picks
        ],
        orders={
            order: names.orders[order]
            for pick in picks
            for order in pick.reason.evidence.get("orders", ())
            if order in names.orders
        },
    )


def _picks_kept(shop: Shop, kept: Kept) -> list[Pick] | None:
    """The kept picks, if every one can still be bought as kept (its product shown, its variant in
    stock); None to rank again."""
    listings = _listings(shop)
    picks = []
    for item in kept.picks:
        listing = listings.get(item["product"])
        variant = (
            next((v for v in listing.in_stock if v.shopify_id == item["variant"]), None) if listing else None
        )
        if listing is None or variant is None:
            return None
        picks.append(Pick(listing.product, variant, Reason(item["kind"], item["evidence"])))
    return picks


def picks_rank(
    shop: Shop,
    shopper: Shopper,
    candidates: Sequence[Candidate],
    *,
    limit: int,
    today: date,
    discovery: bool = False,
    pinned: bool = False,
    settings: RecommendationSettings | None = None,
    evidence: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[Pick]:
    """Candidates to what a shopper is shown: only what they can and will buy, boosted by what
    they told and their season, diversified, with the merchant's discovery share (`discovery`)
    and pinned products first (`pinned`); each with its reason (`evidence` overrides what a
    candidate's kind would say, for callers who know better, such as the quiz)."""
    settings = settings or recommendation_settings(shop)
    shelf = Shelf(
        _catalog(
            shop,
            {candidate.item for candidate in candidates} | set(settings.pinned_product_ids if pinned else ()),
        )
    )
    return _ranked(
        shopper,
        candidates,
        shelf,
        shopper.favourite_products(shop),
        limit=limit,
        today=today,
        discovery=discovery,
        pinned=pinned,
        settings=settings,
        evidence=evidence,
    )


def _ranked(
    shopper: Shopper,
    candidates: Sequence[Candidate],
    shelf: Shelf,
    told: Mapping[int, str],
    *,
    limit: int,
    today: date,
    discovery: bool,
    pinned: bool,
    settings: RecommendationSettings,
    evidence: Mapping[int, Mapping[str, Any]] | None,
) -> list[Pick]:
    """picks_rank on what it read: `shelf` holds the candidates' (and pinned) products, `told`
    the products of the shopper's favourite categories. No query: a batch shares what it reads."""
    catalog = shelf.catalog
    season = season_on(shopper.climate, today) if shopper.climate else None
    allowed = shelf.proposable(shopper, settings, season)
    first = [
        Candidate(item=product_id, score=0.0, kind="pinned", evidence=())
        for product_id in (settings.pinned_product_ids if pinned else [])
        if product_id in allowed
    ][:limit]
    pinned_items = {pin.item for pin in first}
    proposable = [c for c in candidates if c.item in allowed and c.item not in pinned_items]
    # A candidate scored 0 stays 0 however boosted, and rerank shows none such: only the others are
    # boosted and diversified (a newsletter's candidates are mostly the topic's other products,
    # scored 0). How many there were in all still decides whether the pool is cut.
    scored = [c for c in proposable if c.score != 0]
    boost = _boosts(shopper, catalog, season, {c.item for c in scored})
    ranked = rerank(
        _best_per_place(
            scored,
            limit,
            among=len(proposable),
            boost=boost,
            catalog=catalog,
            usual=set(shopper.usual_categories),
        ),
        limit - len(first),
        similarity_matrix=_similarity_matrix(catalog),
        category=shelf.category,
        usual_categories=shopper.usual_categories,
        discovery_share=settings.discovery_share if discovery else 0.0,
        boost=boost,
    )
    sources = {candidate.item: candidate for candidate in candidates}
    context = ReasonContext(shopper, season, told)
    picks = []
    for candidate in [*first, *ranked]:
        entry = catalog[candidate.item]
        variant = entry.variant_for(shopper.sizes)
        known = (evidence or {}).get(candidate.item)
        reason = (
            Reason(candidate.kind, dict(known))
            if known is not None and candidate.kind != "discovery"
            else _reason(candidate, sources.get(candidate.item, candidate), entry, variant, context)
        )
        picks.append(Pick(entry.product, variant, reason))
    return picks


def _best_per_place(
    candidates: Sequence[Candidate],
    limit: int,
    *,
    among: int,
    boost: Mapping[int, float],
    catalog: Mapping[int, Listing],
    usual: set[str],
) -> list[Candidate]:
    """The candidates worth diversifying: the best `RERANK_POOL_PER_PLACE` per place inside the
    shopper's usual categories and as many outside them (the discovery places), when there are more
    than twice that many `among` all the shopper's (`candidates` may leave out those scored 0, which
    are never shown). Maximal marginal relevance weighs each place against every candidate left,
    and its penalty for likeness (at most the diversity weight, 0.1) lets it reach only a little
    way down a list: on a generated shop of 5,000 products, 295 of 300 shoppers' lists came out as
    diversifying every candidate made them, for a fraction of the work."""
    keep = limit * RERANK_POOL_PER_PLACE
    if among <= 2 * keep:
        return list(candidates)
    inside: list[tuple[float, int, Candidate]] = []
    beyond: list[tuple[float, int, Candidate]] = []
    for place, candidate in enumerate(candidates):
        outside = bool(usual) and catalog[candidate.item].product.product_type not in usual
        # The place breaks ties of score as the candidates' order did.
        (beyond if outside else inside).append(
            (candidate.score * boost.get(candidate.item, 1.0), -place, candidate)
        )
    return [entry[2] for side in (inside, beyond) for entry in heapq.nlargest(keep, side)]


def picks_within(
    shop: Shop, shopper: Shopper, product_ids: Iterable[int], *, limit: int, today: date
) -> list[Pick]:
    """The shopper's picks among these products only (a newsletter topic's collections or tags):
    their own candidates and trending among them first, then the rest of them, each with its
    reason, filtered and diversified as every block is."""
    own = _stored(shop, _own_audience(shopper)) if shopper.customer_id else []
    trending = trending_for(shop, shopper)
    return picks_rank(shop, shopper, _within(_unscored(product_ids), own, trending), limit=limit, today=today)


def picks_within_many(
    shop: Shop, customer_ids: Iterable[int | None], product_ids: Iterable[int], *, limit: int, today: date
) -> dict[int | None, list[Pick]]:
    """picks_within for many shoppers at once (a chunk of a newsletter's readers; None for a reader
    who is no customer), by customer id: the products, the shoppers and their candidate lists read
    once for all of them, each shopper's picks then ranked as picks_within ranks them."""
    ids = list(dict.fromkeys(customer_ids))
    shoppers: dict[int | None, Shopper] = dict(shoppers_for(shop, [i for i in ids if i is not None]).items())
    if None in ids:
        shoppers[None] = shopper_for(shop, None)
    within = _unscored(product_ids)
    settings = recommendation_settings(shop)
    shelf = Shelf(_catalog(shop, within))
    stored = _stored_many(
        shop,
        [_own_audience(shopper) for shopper in shoppers.values() if shopper.customer_id]
        + [audience for shopper in shoppers.values() for audience in _trending_audiences(shopper)],
    )
    told: dict[tuple[str, ...], Mapping[int, str]] = {}
    picks: dict[int | None, list[Pick]] = {}
    for customer_id, shopper in shoppers.items():
        own = stored.get(_own_audience(shopper), []) if shopper.customer_id else []
        trending = _first_found(stored, _trending_audiences(shopper))
        favourites = tuple(shopper.told_list(Fact.Name.FAVOURITE_CATEGORIES))
        if favourites and favourites not in told:
            told[favourites] = _products_in_categories(shop, favourites)
        picks[customer_id] = _ranked(
            shopper,
            _within(within, own, trending),
            shelf,
            told.get(favourites, {}),
            limit=limit,
            today=today,
            discovery=False,
            pinned=False,
            settings=settings,
            evidence=None,
        )
    return picks


def _unscored(product_ids: Iterable[int]) -> dict[int, Candidate]:
    """Each of these products as a candidate scored 0, in product order: the tail of a shopper's
    list among them (_within), made once for a batch of shoppers."""
    return {
        product_id: Candidate(item=product_id, score=0.0, kind="trending", evidence=())
        for product_id in sorted(set(product_ids))
    }


def _within(
    within: Mapping[int, Candidate], own: Sequence[Candidate], trending: Sequence[Candidate]
) -> list[Candidate]:
    """A shopper's candidates among these products (_unscored): their own and trending, then the
    rest."""
    best: dict[int, Candidate] = {}
    for candidate in [*_scaled(own, 1.0), *_scaled(trending, TRENDING_WEIGHT)]:
        if candidate.item in within and (
            candidate.item not in best or candidate.score > best[candidate.item].score
        ):
            best[candidate.item] = candidate
    rest = [candidate for product_id, candidate in within.items() if product_id not in best]
    ranked = sorted(best.values(), key=lambda candidate: (-candidate.score, candidate.item))
    return [*ranked, *rest]


def _own_audience(shopper: Shopper) -> str:
    return f"shopper:{shopper.customer_id}"


def trending_for(shop: Shop, shopper: Shopper | None) -> list[Candidate]:
    """What is popular in the shopper's country (the shop's, for a guest), else in the shop."""
    audiences = _trending_audiences(shopper)
    return _first_found(_stored_many(shop, audiences), audiences)


def _first_found(stored: Mapping[str, list[Candidate]], audiences: Sequence[str]) -> list[Candidate]:
    """The candidates of the first of these audiences that has any."""
    return next((stored[audience] for audience in audiences if stored.get(audience)), [])


def _trending_audiences(shopper: Shopper | None) -> list[str]:
    """The trending lists that may serve a shopper, the first that has candidates wins."""
    country = shopper.profile.country_code if shopper is not None and shopper.profile else ""
    return [f"trending:{country}", "trending"] if country else ["trending"]


def picks_names(shop: Shop, picks: Iterable[Pick], *, orders: Mapping[int, str] | None = None) -> Names:
    """The names the picks' reasons cite: products from the catalog in memory, orders in one query
    (or as given, read with the picks)."""
    picks = list(picks)
    cited = {p for pick in picks for p in pick.reason.evidence.get("products", ())}
    known = catalog_memory(shop).products
    products = {product_id: known[product_id].title for product_id in cited if product_id in known}
    if len(products) < len(cited):  # a deleted product keeps its name in our rows
        products.update(
            Product.objects.for_shop(shop)
            .filter(shopify_id__in=cited - set(products))
            .values_list("shopify_id", "title")
        )
    if orders is None:
        orders = dict(
            Order.objects.for_shop(shop)
            .filter(shopify_id__in=[o for pick in picks for o in pick.reason.evidence.get("orders", ())])
            .values_list("shopify_id", "name")
        )
    return Names(products=products, orders=orders)


def picks_as_json(
    shop: Shop, picks: list[Pick], language: str, names: Names | None = None
) -> list[dict[str, Any]]:
    """The picks as the storefront and emails show them; `names` when a batch read them already."""
    names = names if names is not None else picks_names(shop, picks)
    texts = reason_texts([pick.reason for pick in picks], language, names)
    return [
        {
            "product_id": pick.product.shopify_id,
            "variant_id": pick.variant.shopify_id,
            "title": pick.product.title,
            "url": f"/products/{pick.product.handle}",
            "image": pick.product.image_url,
            "price": {"amount": str(pick.variant.price), "currency": pick.variant.currency},
            "reason": pick.reason.as_json(text),
        }
        for pick, text in zip(picks, texts, strict=True)
    ]


def _candidates(
    shop: Shop, block: str, shopper: Shopper, *, product_id: int | None, season: str | None, today: date
) -> list[Candidate]:
    if block == "because-you-bought":
        anchor = product_id or _last_bought(shop, shopper.customer_id)
        return _stored(shop, f"related:{anchor}") if anchor else []
    if block == "back-in-size":
        return _back_in_size(shop, shopper, today)
    if block == "for-you":
        return _for_you(shop, shopper, _stored_many(shop, _for_you_audiences(shopper)))
    audiences = _trending_audiences(shopper)
    trending = _first_found(_stored_many(shop, audiences), audiences)
    if block == "trending":
        return trending
    return _seasonal(shop, season, trending) if season else []  # the seasonal block


def _for_you_audiences(shopper: Shopper) -> list[str]:
    """The candidate lists "for you" reads: trending, the shopper's own, and what goes with the
    products they viewed lately."""
    viewed = shopper.browsing.views if shopper.browsing else {}
    return [
        *_trending_audiences(shopper),
        *([_own_audience(shopper)] if shopper.customer_id else []),
        *(f"related:{product_id}" for product_id in viewed),
    ]


def _for_you(shop: Shop, shopper: Shopper, stored: Mapping[str, list[Candidate]]) -> list[Candidate]:
    """The shopper's own candidates, what they viewed and told us, and trending to fill up, each
    source on one scale (its best at 1) and weighed: history first, told as it fades, trending
    last. `stored` holds (at least) the lists of _for_you_audiences."""
    trending = _first_found(stored, _trending_audiences(shopper))
    own = _scaled(stored.get(_own_audience(shopper), []) if shopper.customer_id else [], 1.0)
    told = _told_candidates(shop, shopper, trending)
    best: dict[int, Candidate] = {}
    for candidate in [*own, *_viewed_candidates(shopper, stored), *told, *_scaled(trending, TRENDING_WEIGHT)]:
        if candidate.item not in best or candidate.score > best[candidate.item].score:
            best[candidate.item] = candidate
    return sorted(best.values(), key=lambda candidate: (-candidate.score, candidate.item))


def _scaled(candidates: Sequence[Candidate], weight: float) -> list[Candidate]:
    top = max((candidate.score for candidate in candidates), default=0.0)
    if top <= 0:
        return list(candidates)
    scale = weight / top
    return [Candidate(c.item, c.score * scale, c.kind, c.evidence) for c in candidates]


def _seasonal(shop: Shop, season: str, trending: Sequence[Candidate]) -> list[Candidate]:
    """The products made for the shopper's season now, the popular first."""
    popularity = {candidate.item: candidate.score for candidate in trending}
    return sorted(
        (
            Candidate(
                item=product_id, score=1.0 + popularity.get(product_id, 0.0), kind="seasonal", evidence=()
            )
            for product_id, listing in _listings(shop).items()
            if listing.season == season
        ),
        key=lambda candidate: (-candidate.score, candidate.item),
    )


def _stored(shop: Shop, audience: str) -> list[Candidate]:
    return _stored_many(shop, [audience]).get(audience, [])


def _stored_many(shop: Shop, audiences: Iterable[str]) -> dict[str, list[Candidate]]:
    """_stored for many audiences, in one query."""
    return {
        audience: [candidate_from_json(item) for item in stored or []]
        for audience, stored in CandidateList.objects.for_shop(shop)
        .filter(audience__in=set(audiences))
        .values_list("audience", "candidates")
    }


def candidate_from_json(item: Mapping[str, Any]) -> Candidate:
    evidence = item.get("evidence", {})
    return Candidate(
        item=int(item["product"]),
        score=float(item["score"]),
        kind=str(item["kind"]),
        evidence=tuple(evidence.get("orders", ()) or evidence.get("products", ())),
    )


def _viewed_candidates(shopper: Shopper, stored: Mapping[str, list[Candidate]]) -> list[Candidate]:
    """Because you viewed: what is bought together with the products the shopper looked at
    lately (their `related:` lists in `stored`), the more recent and frequent views first, a
    little above their own history. Each says which viewed product it goes with
    (bought_together, "Often bought with X": X is the product they viewed)."""
    views = shopper.browsing.views if shopper.browsing else {}
    heaviest = max(views.values(), default=0.0)
    found: list[Candidate] = []
    for product_id, weight in views.items():
        related = stored.get(f"related:{product_id}", [])
        for candidate in _scaled(related, VIEWED_WEIGHT * weight / heaviest):
            found.append(replace(candidate, kind="bought_together", evidence=(product_id,)))
    return found


def _told_candidates(shop: Shop, shopper: Shopper, trending: Sequence[Candidate]) -> list[Candidate]:
    """Products of the categories the shopper told us they like, by popularity: they lead for a
    shopper with no order and fade as orders accrue."""
    in_category = shopper.favourite_products(shop)
    if not in_category:
        return []
    orders = shopper.profile.order_count if shopper.profile else 0
    weight = TOLD_WEIGHT / (1 + orders / TOLD_FADE_ORDERS)
    popularity = {candidate.item: candidate.score for candidate in _scaled(trending, 1.0)}
    return [
        Candidate(
            item=product_id,
            score=weight * (1 + popularity.get(product_id, 0.0)) / 2,
            kind="you_told_us",
            evidence=(),
        )
        for product_id in in_category
    ]


def _products_in_categories(shop: Shop, categories: Iterable[str]) -> dict[int, str]:
    wanted = list(categories)
    found: dict[int, str] = {}
    for product_id, product_type in (
        Product.objects.for_shop(shop)
        .filter(product_type__in=wanted)
        .values_list("shopify_id", "product_type")
    ):
        found[product_id] = product_type
    for product_id, handle in (
        CollectionMembership.objects.for_shop(shop)
        .filter(collection__handle__in=wanted)
        .values_list("product_shopify_id", "collection__handle")
    ):
        found.setdefault(product_id, handle)
    return found


def _back_in_size(shop: Shop, shopper: Shopper, today: date) -> list[Candidate]:
    """Products of the types the shopper has a size for, whose variant in that size came back in
    stock lately, their favourite types first."""
    sizes = {product_type: size.lower() for product_type, size in shopper.sizes.items()}
    if not sizes:
        return []
    since = timezone.now() - timedelta(days=BACK_IN_SIZE_DAYS)
    tastes = (shopper.profile.affinities or {}).get("product_type", {}) if shopper.profile else {}
    found = [
        Candidate(
            item=product_id,
            score=1.0 + float(tastes.get(listing.product.product_type, 0.0)),
            kind="back_in_size",
            evidence=(variant.shopify_id,),
        )
        for product_id, listing in _listings(shop).items()
        if listing.product.product_type in sizes
        for variant in listing.in_stock
        if variant.available_updated_at is not None
        and variant.available_updated_at >= since
        and variant_size(variant.options).lower() == sizes[listing.product.product_type]
    ]
    return sorted(found, key=lambda candidate: (-candidate.score, candidate.item))


def _last_bought(shop: Shop, customer_id: int | None) -> int | None:
    if customer_id is None:
        return None
    return (
        OrderLine.objects.for_shop(shop)
        .filter(
            order__customer_shopify_id=customer_id, order__cancelled_at__isnull=True, product_id__isnull=False
        )
        .order_by("-order__shopify_created_at")
        .values_list("product_id", flat=True)
        .first()
    )


# --- The catalog as serving sees it ----------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A product a shopper may be shown (active, with variants), and what serving asks of it,
    worked out once per copy of the catalog in memory."""

    product: ServedProduct
    variants: tuple[ServedVariant, ...]
    season: str  # "warm", "cold", "mild" or "" (all year)
    in_stock: tuple[ServedVariant, ...]
    # The sizes in stock, in lower case; `sized` when any variant has a size at all.
    sizes_in_stock: frozenset[str]
    sized: bool

    def variant_for(self, sizes: Mapping[str, str]) -> ServedVariant:
        """The variant to offer: in the shopper's size for this type if we know it, in stock."""
        size = sizes.get(self.product.product_type, "").lower()
        if size:
            for variant in self.in_stock:
                if variant_size(variant.options).lower() == size:
                    return variant
        return (self.in_stock or self.variants)[0]

    def buyable_in(self, size: str) -> bool:
        if not size or not self.sized:
            return bool(self.in_stock)
        return size.lower() in self.sizes_in_stock


def _listing(product: ServedProduct, variants: tuple[ServedVariant, ...]) -> Listing:
    in_stock = tuple(variant for variant in variants if (variant.available or 0) > 0)
    return Listing(
        product=product,
        variants=variants,
        season=product_season(product),
        in_stock=in_stock,
        sizes_in_stock=frozenset(variant_size(variant.options).lower() for variant in in_stock),
        sized=any(variant_size(variant.options) for variant in variants),
    )


def _listings(shop: Shop) -> Mapping[int, Listing]:
    """Every product a shopper may be shown, from the catalog in memory (commerce.catalog_memory):
    worked out once per copy, and gone with it."""
    memory = catalog_memory(shop)
    listings: dict[int, Listing] | None = memory.derived.get("listings")
    if listings is None:
        listings = memory.derived["listings"] = {
            product_id: _listing(product, memory.variants[product_id])
            for product_id, product in memory.products.items()
            if product.is_active and memory.variants.get(product_id)
        }
    return listings


def _catalog(shop: Shop, product_ids: Iterable[int]) -> dict[int, Listing]:
    """Of these products, those a shopper may be shown, with their variants. No query while the
    catalog in memory is current."""
    listings = _listings(shop)
    return {product_id: listings[product_id] for product_id in product_ids if product_id in listings}


def product_season(product: Product | ServedProduct) -> str:
    for tag in product.tag_list:
        season = SEASON_TAGS.get(tag.strip().lower())
        if season:
            return season
    return ""


class Shelf:
    """The products a ranking chooses among (`catalog`) and what every shopper ranked against them
    shares: each product's category, and which of them a shopper may be proposed, worked out once
    per kind of shopper (the merchant's exclusions, the shopper's excluded categories, season and
    sizes) for all of a batch (a chunk of a newsletter's readers: most are of a few kinds), each
    one's dismissals then taken out."""

    def __init__(self, catalog: Mapping[int, Listing]) -> None:
        self.catalog = catalog
        self.category = {product_id: entry.product.product_type for product_id, entry in catalog.items()}
        self._proposable: dict[tuple[Any, ...], frozenset[int]] = {}

    def proposable(
        self, shopper: Shopper, settings: RecommendationSettings, season: str | None
    ) -> frozenset[int]:
        """The products the shopper can and will buy: not excluded by the merchant, not dismissed,
        not of a category they excluded, not against their season, buyable in their size."""
        excluded = frozenset(shopper.told_list(Fact.Name.EXCLUDED_CATEGORIES))
        sizes = frozenset(shopper.sizes.items())
        kind = (tuple(settings.excluded_product_ids), excluded, season, sizes)
        found = self._proposable.get(kind)
        if found is None:
            found = self._proposable[kind] = frozenset(
                product_id
                for product_id, entry in self.catalog.items()
                if product_id not in settings.excluded_product_ids
                and _can_propose(entry, shopper.sizes, season, excluded)
            )
        return found - shopper.dismissed if shopper.dismissed else found


def _can_propose(entry: Listing, sizes: Mapping[str, str], season: str | None, excluded: Set[str]) -> bool:
    """Not of an excluded category, not against the season, buyable in the shopper's size."""
    product = entry.product
    if product.product_type in excluded:
        return False
    if season and (entry.season, season) in CLASHES:
        return False
    return entry.buyable_in(sizes.get(product.product_type, ""))


def _boosts(
    shopper: Shopper, catalog: Mapping[int, Listing], season: str | None, items: Iterable[int]
) -> dict[int, float]:
    """Each of these products' boost for the shopper (those of the catalog)."""
    favourites = set(shopper.told_list(Fact.Name.FAVOURITE_CATEGORIES))
    tastes = (shopper.profile.affinities or {}).get("product_type", {}) if shopper.profile else {}
    viewed = shopper.browsing.tastes if shopper.browsing else {}
    boosts = {}
    for product_id in items:
        entry = catalog.get(product_id)
        if entry is None:
            continue
        boost = 1.0 + float(tastes.get(entry.product.product_type, 0.0))
        boost += VIEW_TASTE_WEIGHT * viewed.get(entry.product.product_type, 0.0)
        if entry.product.product_type in favourites:
            boost *= TOLD_BOOST
        if season and entry.season == season:
            boost *= SEASON_BOOST
        boosts[product_id] = boost
    return boosts


def _similarity_matrix(catalog: Mapping[int, Listing]) -> Callable[[Sequence[int]], FloatArray]:
    """How alike products are, for diversifying: 1 for one product type, 0.5 for one vendor."""

    def matrix(items: Sequence[int]) -> FloatArray:
        listings = [catalog.get(item) for item in items]
        types = category_codes([entry.product.product_type if entry else "" for entry in listings])
        vendors = category_codes([entry.product.vendor if entry else "" for entry in listings])
        same_type = (types[:, None] == types[None, :]) & (types[:, None] > 0)
        same_vendor = (vendors[:, None] == vendors[None, :]) & (vendors[:, None] > 0)
        return np.where(same_type, 1.0, np.where(same_vendor, 0.5, 0.0))

    return matrix


def _reason(
    candidate: Candidate, source: Candidate, entry: Listing, variant: ServedVariant, context: ReasonContext
) -> Reason:
    """The reason for an item, with its evidence: the candidate's own kind (discovery replaces the
    kind it had), the evidence its source carried."""
    kind = candidate.kind
    shopper, product = context.shopper, entry.product
    climate = shopper.climate
    evidence: dict[str, Any] = {
        "repeat": lambda: {"orders": list(source.evidence)},
        "bought_together": lambda: {"products": list(source.evidence)},
        "similar_shoppers": lambda: {"products": list(source.evidence)},
        "you_told_us": lambda: {
            "fact": Fact.Name.FAVOURITE_CATEGORIES,
            "value": context.told.get(product.shopify_id, ""),
        },
        "back_in_size": lambda: {
            "variant": variant.shopify_id,
            "size": shopper.sizes.get(product.product_type, ""),
            "restocked_at": variant.available_updated_at.isoformat()
            if variant.available_updated_at
            else None,
        },
        "seasonal": lambda: {
            "season": context.season or "",
            "product_season": entry.season,
            "country": climate.country_code if climate else "",
            "hemisphere": climate.hemisphere if climate else "",
        },
        "discovery": lambda: {"outside": shopper.usual_categories[:3], "category": product.product_type},
        "pinned": lambda: {"pinned": True},
    }
    if kind in evidence:
        return Reason("trending" if kind == "pinned" else kind, evidence[kind]())
    return Reason("trending", {"region": shopper.profile.country_code if shopper.profile else ""})
