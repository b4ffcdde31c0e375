"""The recommendation engine: candidates per shopper, each with its reason, and the request-time
re-ranking. Pure NumPy/SciPy; the Django side loads a shop's orders into ``Purchases`` and stores
what this returns.

Candidate sources, blended into one score per (shopper, item):

- **repeat**: the shopper's own decayed item frequencies, TIFU style (Hu, He, Zhang, Wang, Yang &
  Lin, SIGIR 2020, "Modeling Personalized Item Frequency Information for Next-basket
  Recommendation"): the shopper's orders, newest first, fall in groups of ``group_size``; an order
  weighs ``within_group_decay`` to the power of its place in its group over the group's size, and
  a group ``group_decay`` to the power of its place over the number of groups. An item's weight is
  the sum over the orders holding it (presence, not quantity: wholesale quantities would drown the
  signal). Rows are scaled to a maximum of 1, so one blend weight means the same for a shopper with
  two orders and one with two hundred.
- **similar_shoppers**: the mean of those vectors over the shopper's ``neighbours`` nearest other
  shoppers by cosine (TIFU-KNN blends ``repeat_weight * own + (1 - repeat_weight) * neighbours``).
  Neighbours are found by sparse matrix products, ``block_size`` shoppers at a time; a shop with
  more than ``neighbour_pool`` shoppers searches a fixed random sample of that many (seeded, so the
  answer is a pure function of the purchases): with 100,000 shoppers the exact search costs five
  times more for nearly the same neighbours' mean.
- **bought_together**: item-item cosine over orders (each order weighs ``0.5 ** (age /
  together_half_life_days)``; an order of n items adds ``1 / (n - 1)`` per pair, so a wholesale
  order of 300 lines does not outweigh 300 small ones, as in item-based collaborative filtering,
  Sarwar et al., WWW 2001), pruned to each item's ``together_neighbours`` best; the shopper's own
  vector times that matrix, scaled to a maximum of 1.
- **trending**: purchases (one per shopper, item and order) in the last ``trending_window_days``,
  each weighing ``0.5 ** (age / trending_half_life_days)``, scaled to a maximum of 1. It ranks the
  new shopper's list and fills the tail of everyone else's.

A candidate's kind is the source that contributed most to its score; its evidence is true by
construction (see ``Candidate``). ``rerank`` then filters, boosts, diversifies by maximal marginal
relevance (Carbonell & Goldstein, SIGIR 1998) and reserves the discovery share.

**Per-shop tuning** (``engine_tune``, called by ``engine_fit`` when no parameters are given, so
serving's precompute and ``evaluate_recommendations`` take the one path): the last order of up to
``tune_shoppers`` shoppers with two or more is held out of the shop's own history, the engine is
fitted on the rest, and the four blend weights (repeat vs neighbours, bought together, trending,
the trending floor) are searched one at a time over ``TUNE_GRID``, two rounds, for recall@10 on
those orders; the sources are computed once and each setting is a weighted sum and a top-k, so a
shop of 100,000 shoppers, 5,000 products and 1M lines tunes in about 11 s and fits in 2. Of the
settings within ``tune_tolerance`` (0.5%) of the best recall the one recommending the most distinct
products wins. A shop with fewer than ``tune_minimum`` such shoppers keeps the defaults. On a shop
whose shoppers never buy an item twice it moves the weight from their own items to their
neighbours' (tests); on UCI Online Retail it keeps the repeat-heavy blend and chooses the bought-
together weight and trending floor per cut.

Figures on UCI Online Retail, recall@10 as a ratio to own-then-popular in the same run, on the
full file / cut at 2011-10-31 / 08-31 / 06-30 (``evaluate_recommendations`` has the table):

- fixed defaults (before tuning): 1.107 / 1.076 / 1.104 / 1.060, coverage 0.489 / 0.461 / 0.442 /
  0.430 against the baseline's 0.615 / 0.592 / 0.565 / 0.538;
- tuned (kept): 1.109 / 1.074 / 1.104 / 1.053, coverage 0.541 / 0.520 / 0.472 / 0.497. The
  internal backtest finds the recall surface flat (within 1% over the whole grid), so tuning buys
  coverage here and would buy recall on a shop unlike this one;
- a tolerance of 2% or 5% instead of 0.5%: full file 1.054 at coverage 0.607, or 1.034 at 0.642
  (above the baseline's). Coverage and recall pull apart on this shop: what sells now carries the
  recall, and lists that follow it share their items;
- EASE (Steck, WWW 2019; ridge lambda 200 on the 2,000 best-selling items) on the shopper's TIFU
  vector: the best new-item source when a whole list is new items (recall of new items 0.066 full,
  0.084 at 06-30, against 0.059 / 0.075 for the neighbours, 0.033 / 0.048 for trending), but in
  the blend at most +0.007 and worse from a weight of 0.1, for an items-squared inverse (10 s at
  3,600 items, cubic beyond). Not kept; the tuned bought-together weight plays its part;
- a logistic regression of "in the next order" on 15 features (TIFU weight, order count and share,
  orders since last bought, days since, trending, popularity, the same weeks a year earlier, the
  item's repeat rate, the shopper's orders and items, neighbours, EASE), separate models for own
  and new items, learnt on the same internal backtest and ranking both by probability: 1.114 /
  1.091 / 1.129 / 1.071, coverage 0.50 / 0.42 / 0.42 / 0.40; binned hit rates (count x orders x
  recency x trending) 1.03 to 1.08. Within noise of the blend, at a second model's cost: not kept;
- quantity in the TIFU weights (log or square root of units): 0.01 to 0.02 lower; a bonus for what
  the shopper bought in the same weeks a year earlier: no gain; a trending half-life of 15 or 60
  days instead of 30: +-0.01, no consistent winner; the recent share of an item's own sales
  ("lift", blind to popularity) as the timing factor: 1.00 to 1.03 at coverage above the
  baseline's; giving the last one to four places of ten to the shopper's own items ranked by lift:
  the baseline's coverage at four places, recall 1.04 to 1.08; MMR diversity 0 / 0.2 / 0.35 on the
  full file: 1.118 / 1.097 / 1.074 at coverage 0.543 / 0.547 / 0.556.

A later round (same four runs; "fixed" = these weights with the plain top-k, outside the tuner):

- a popularity discount, every score divided by ``(1 + the item's buyers) ** beta``: fixed, it
  reaches the baseline's coverage at beta 0.15 / 0.2 / 0.15 / 0.1 for -0.010 / -0.005 / -0.005 /
  +0.002 of ratio, the cheapest coverage found (a discount by exposure in a first top-10, or by
  trending, costs more; on the shopper's own items alone, more again). Swept by ``engine_tune``
  (beta 0 to 0.4 on the recall-best weights, the old tolerance rule): 1.097 / 1.080 / 1.105 / 1.053
  at coverage 0.660 / 0.549 / 0.532 / 0.497, and new-item recall on the full file 0.0022, under the
  baseline's 0.0025. A coverage floor in the tuner (the own-then-popular coverage of its held-out
  shoppers) cannot place beta: on its 1,500 shoppers beta 0.2 covers 0.91 of that floor, in the
  evaluation's 2,829 it covers 1.09, and carrying the ratio on by sample size does not close the
  gap. Not kept: it trades recall and new items for coverage;
- gradient-boosted trees (LightGBM, offline only, to measure the headroom), learnt on the internal
  backtest. On 19 features (TIFU weight, order count and share, orders and days since last bought;
  the shopper's days since their last order, orders, items, mean order size, repeat rate and mean
  gap; trending, lift, popularity, the item's repeat rate and cycle in orders; neighbours, bought
  together, own or not): binary loss 1.134 / 1.082 / 1.116 / 1.090 at coverage 0.49 / 0.48 / 0.41 /
  0.40. Adding the sizes of the shopper's orders holding the item, its share of their last three
  orders, its next-order rate over all shoppers (bought again in the order right after), its
  co-purchase with the shopper's last order and the days from its last purchase to the shopper's
  last order (26), ranking loss: 1.139 / 1.094 / 1.119 / 1.092 at 0.43 / 0.43 / 0.37 / 0.36; with
  three stacked backtests (each shopper's last, second and third last order held out in turn): 1.163
  full, 1.121 at 08-31. Learnt on the evaluation's own answers, an in-sample ceiling for these
  features: 1.23. The only route to 1.15 found, at a third less coverage and with a learnt model in
  the precompute: not built;
- trending timed to the shopper (a 30-day window at their last order, or at their last order plus
  their mean gap) instead of now: 1.071 / 1.101 against 1.114 (full, fixed): the held-out orders
  themselves lie a median 29 days before the cut (42 after the shopper's previous one), so now is
  right. What sold since the shopper's last order, as the timing factor: +0.005 / -0.001 / +0.011 on
  three runs. Neighbours' mean as a multiplier of the shopper's own items (personalised popularity),
  beside or instead of trending: 1.04 to 1.11, below trending alone. Trending to a power 0.25 to
  1.5: flat, within 0.01 around 1.

Where the recall is (full file): shoppers with at most ten items of their own (373) get 0.40
(own-then-popular 0.37, every own item listed); 11 to 30 items (725), 0.23 of a possible 0.30 from
own items; 31 to 100 (1,165), 0.17 of 0.36; above 100 (566), 0.10 of 0.35. The loss is in ranking
the own items of shoppers with a few orders and many items.

Why the ceiling is low here: 61% of a held-out order is new to the shopper and no source finds more
than 7% of those in ten places; the repeat part is capped at a recall of 0.344 (ten places all
right); and the evaluated shoppers' last training orders lie a median 95 days before the cut, so
their own recent items are not what sells now (their held-out orders lie a median 29 days before
it). Earlier rounds also tried the trending multiplier on every source (the same recall, a tenth
less coverage), a per-shop logistic regression for the repeat ranking alone (+0.8%) and next-order
transitions instead of same-order co-purchases (lower recall of new items).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

KIND_REPEAT = "repeat"
KIND_TOGETHER = "bought_together"
KIND_SIMILAR = "similar_shoppers"
KIND_TRENDING = "trending"
KIND_DISCOVERY = "discovery"
# In the order of the blend's components (engine_candidates).
SOURCE_KINDS = (KIND_REPEAT, KIND_SIMILAR, KIND_TOGETHER, KIND_TRENDING)
DEFAULT_DIVERSITY = 0.1
# Two items of the same category count as this similar when a category map is given (rerank).
SAME_CATEGORY_SIMILARITY = 0.5
EVIDENCE_ITEMS = 3
_SEED = 20200725  # fixed, so the neighbour sample is a pure function of the purchases


@dataclass(frozen=True)
class Purchases:
    """One row per purchased line, aligned arrays."""

    customer: IntArray  # 0 .. customers-1
    item: IntArray  # 0 .. items-1
    day: FloatArray  # days since some epoch (fractional ok)
    quantity: FloatArray  # units kept (> 0)
    order: IntArray  # the order's id (for evidence)

    def __len__(self) -> int:
        return len(self.item)


@dataclass(frozen=True)
class Candidate:
    """One proposal. Evidence by kind: repeat, the shopper's order ids holding the item (latest
    first); bought_together, the shopper's own items (indexes) that drive it; similar_shoppers, the
    shopper's own items most shared with the neighbours who bought it; trending and discovery,
    ()."""

    item: int
    score: float
    kind: str
    evidence: tuple[int, ...]


@dataclass(frozen=True)
class EngineParameters:
    """Every tunable; the module docstring says what each does. The defaults are where
    ``engine_tune`` starts its search, and what a shop too small to tune gets."""

    group_size: int = 7
    within_group_decay: float = 0.9
    group_decay: float = 0.7
    neighbours: int = 300
    repeat_weight: float = 0.9  # TIFU-KNN's alpha; neighbours get 1 - repeat_weight
    together_weight: float = 0.05
    together_neighbours: int = 50
    together_half_life_days: float = 365.0
    trending_weight: float = 0.01
    # The repeat and trending scores are multiplied by (trending_floor + trending): of two items
    # the shopper buys alike, the one that sells now comes first.
    trending_floor: float = 0.1
    trending_half_life_days: float = 30.0
    trending_window_days: float = 120.0
    diversity: float = DEFAULT_DIVERSITY  # MMR's 1 - lambda; 0 is the plain top-k
    candidate_pool: int = 3  # engine_recommend re-ranks this many times ``limit`` candidates
    neighbour_pool: int = 25_000
    block_size: int = 512
    # Self-tuning (engine_tune): how many shoppers' last orders the internal backtest holds out,
    # the fewest it needs to trust its verdict, the list length it scores, and how much recall
    # it gives up, at most, for catalog coverage.
    tune_shoppers: int = 1500
    tune_minimum: int = 100
    tune_k: int = 10
    tune_tolerance: float = 0.005


@dataclass
class Engine:
    """Fitted state for one shop."""

    parameters: EngineParameters
    customers: int
    items: int
    as_of_day: float
    own: sparse.csr_matrix  # customers x items, TIFU vectors scaled to a row maximum of 1
    own_unit: sparse.csr_matrix  # the same, rows of unit length (for the cosine)
    pool: IntArray  # the shoppers searched for neighbours
    pool_unit_t: sparse.csr_matrix  # items x pool, own_unit's pool rows transposed
    together: sparse.csr_matrix  # items x items, pruned cosine, no diagonal
    together_items: IntArray  # items x together_neighbours, -1 padded (evidence lookups)
    together_values: FloatArray
    trending_line_item: IntArray  # one row per (shopper, item, order) in the trending window
    trending_line_customer: IntArray
    trending_line_weight: FloatArray
    trending: FloatArray  # per item, maximum 1 (or all 0)
    pair_key: IntArray  # sorted customer * items + item, one per pair bought
    pair_start: IntArray  # into pair_orders; pair_start[p] .. pair_start[p + 1]
    pair_orders: IntArray  # order ids per pair, latest first
    tuning: Tuning | None = None  # what engine_tune found, when the parameters were tuned
    _similarity: dict[int, float] = field(default_factory=dict, repr=False)


def engine_fit(
    purchases: Purchases,
    customers: int,
    items: int,
    as_of_day: float,
    parameters: EngineParameters | None = None,
) -> Engine:
    """Fit a shop's engine on its purchases before ``as_of_day`` (later lines are ignored).

    Without ``parameters`` the blend is tuned for this shop first (``engine_tune``): serving and
    the evaluation both come here, so both get the weights the shop's own history supports.
    """
    tuning = None
    if parameters is None:
        tuning = engine_tune(purchases, customers, items, as_of_day)
        parameters = tuning.parameters
    kept = (purchases.day < as_of_day) & (purchases.quantity > 0)
    customer = np.asarray(purchases.customer, dtype=np.int64)[kept]
    item = np.asarray(purchases.item, dtype=np.int64)[kept]
    day = np.asarray(purchases.day, dtype=np.float64)[kept]
    order = np.asarray(purchases.order, dtype=np.int64)[kept]

    # One row per (order, item): presence. An order's time is its earliest line's.
    basket_customer, basket_day, line_basket = _baskets(customer, order, day)
    pairs = np.unique(np.stack([line_basket, item]), axis=1) if len(item) else np.zeros((2, 0), np.int64)
    entry_basket, entry_item = pairs[0], pairs[1]

    own = _own_vectors(
        basket_customer,
        basket_day=basket_day,
        entry_basket=entry_basket,
        entry_item=entry_item,
        customers=customers,
        items=items,
        parameters=parameters,
    )
    own_unit = _rows_scaled(own, np.sqrt(np.asarray(own.multiply(own).sum(axis=1)).ravel()))
    pool = _pool(own, parameters.neighbour_pool)
    together = _together(
        entry_basket,
        entry_item=entry_item,
        basket_age=as_of_day - basket_day,
        baskets=len(basket_day),
        items=items,
        parameters=parameters,
    )
    together_items, together_values = _padded_rows(together, parameters.together_neighbours)

    in_window = as_of_day - basket_day[entry_basket] <= parameters.trending_window_days
    trending_basket = entry_basket[in_window]
    trending_weight = 0.5 ** ((as_of_day - basket_day[trending_basket]) / parameters.trending_half_life_days)
    trending_item = entry_item[in_window]
    trending_customer = basket_customer[trending_basket]

    pair_key, pair_start, pair_orders = _pair_orders(customer, item, day, order, items)
    return Engine(
        parameters=parameters,
        customers=customers,
        items=items,
        as_of_day=float(as_of_day),
        own=own,
        own_unit=own_unit,
        pool=pool,
        pool_unit_t=own_unit[pool].T.tocsr(),
        together=together,
        together_items=together_items,
        together_values=together_values,
        trending_line_item=trending_item,
        trending_line_customer=trending_customer,
        trending_line_weight=trending_weight,
        trending=_trending_scores(trending_item, trending_weight, items),
        pair_key=pair_key,
        pair_start=pair_start,
        pair_orders=pair_orders,
        tuning=tuning,
    )


@dataclass(frozen=True)
class Tuning:
    """What ``engine_tune`` found: the parameters, and on its internal backtest the recall@k and
    catalog coverage they reach beside the defaults' (NaN when the shop was too small to tune)."""

    parameters: EngineParameters
    shoppers: int  # held out in the internal backtest
    recall: float
    coverage: float
    default_recall: float
    default_coverage: float


# The blend weights engine_tune searches, one at a time, from the defaults.
TUNE_GRID: dict[str, tuple[float, ...]] = {
    "repeat_weight": (1.0, 0.95, 0.9, 0.8, 0.6, 0.2),
    "together_weight": (0.0, 0.02, 0.05, 0.1, 0.3, 1.0),
    "trending_weight": (0.0, 0.01, 0.03, 0.1, 0.3),
    "trending_floor": (0.03, 0.1, 0.3, 1.0, 3.0),
}
TUNE_ROUNDS = 2


def engine_tune(
    purchases: Purchases,
    customers: int,
    items: int,
    as_of_day: float,
    base: EngineParameters | None = None,
) -> Tuning:
    """Choose a shop's blend weights on its own history: hold out the last order of up to
    ``tune_shoppers`` shoppers with two or more (a seeded sample), fit on the rest, and search
    ``TUNE_GRID`` coordinate by coordinate for the best recall@``tune_k`` on the held-out orders.
    Of the settings within ``tune_tolerance`` of the best recall, the one recommending the most
    distinct products wins (coverage: a shop's long tail is worth showing when it costs nothing).
    A shop with fewer than ``tune_minimum`` such shoppers keeps ``base``."""
    base = base or EngineParameters()
    kept = (purchases.day < as_of_day) & (purchases.quantity > 0)
    customer = np.asarray(purchases.customer, dtype=np.int64)[kept]
    order = np.asarray(purchases.order, dtype=np.int64)[kept]
    day = np.asarray(purchases.day, dtype=np.float64)[kept]
    item = np.asarray(purchases.item, dtype=np.int64)[kept]
    basket_customer, basket_day, line_basket = _baskets(customer, order, day)
    place, total = _basket_places(basket_customer, basket_day)
    last = np.flatnonzero((place == 0) & (total >= 2))
    untuned = Tuning(base, len(last), float("nan"), float("nan"), float("nan"), float("nan"))
    if len(last) < base.tune_minimum:
        return untuned
    if len(last) > base.tune_shoppers:
        last = np.sort(np.random.default_rng(_SEED).choice(last, size=base.tune_shoppers, replace=False))
    held = np.zeros(len(basket_day), dtype=bool)
    held[last] = True
    held_line = held[line_basket]
    training = Purchases(
        customer=customer[~held_line],
        item=item[~held_line],
        day=day[~held_line],
        quantity=np.ones(int((~held_line).sum())),
        order=order[~held_line],
    )
    engine = engine_fit(training, customers, items, as_of_day, base)
    shoppers = basket_customer[last]
    truth = np.zeros((len(shoppers), items), dtype=bool)
    row_of = np.full(customers, -1, dtype=np.int64)
    row_of[shoppers] = np.arange(len(shoppers))
    truth[row_of[customer[held_line]], item[held_line]] = True
    sold = int(np.count_nonzero(np.bincount(training.item, minlength=items)))
    sources = np.concatenate(
        [
            _sources(engine, shoppers[start : start + base.block_size])[1].astype(np.float32)
            for start in range(0, len(shoppers), base.block_size)
        ],
        axis=1,
    )
    trending = engine.trending.astype(np.float32)
    k = min(base.tune_k, items)
    seen: dict[EngineParameters, tuple[float, float]] = {}

    def measure(parameters: EngineParameters) -> tuple[float, float]:
        if parameters not in seen:
            score = _weighted(sources, trending, parameters)[1]
            top = (
                np.argpartition(-score, k - 1, axis=1)[:, :k]
                if k < items
                else np.tile(np.arange(items), (len(score), 1))
            )
            listed = np.take_along_axis(score, top, axis=1) > 0
            hits = np.take_along_axis(truth, top, axis=1) & listed
            recall = float(np.mean(hits.sum(axis=1) / truth.sum(axis=1)))
            seen[parameters] = (recall, len(np.unique(top[listed])) / max(sold, 1))
        return seen[parameters]

    best = base
    for _ in range(TUNE_ROUNDS):
        for name, values in TUNE_GRID.items():
            changes: list[dict[str, Any]] = [{name: value} for value in values]
            # The current setting first: a tie keeps it.
            best = max([best, *(replace(best, **change) for change in changes)], key=lambda p: measure(p)[0])
    top_recall = measure(best)[0]
    chosen = max(
        (p for p, (recall, _) in seen.items() if recall >= top_recall * (1 - base.tune_tolerance)),
        key=lambda p: (seen[p][1], seen[p][0]),
    )
    return Tuning(chosen, len(shoppers), *measure(chosen), *measure(base))


def engine_candidates(engine: Engine, customers: IntArray, limit: int) -> list[list[Candidate]]:
    """Up to ``limit`` candidates per shopper, best first, in blocks of ``block_size`` shoppers."""
    customers = np.asarray(customers, dtype=np.int64)
    out: list[list[Candidate]] = []
    size = engine.parameters.block_size
    for start in range(0, len(customers), size):
        out.extend(_block_candidates(engine, customers[start : start + size], limit))
    return out


def engine_related(engine: Engine, item: int, limit: int) -> list[Candidate]:
    """What is bought together with ``item`` (product pages, anonymous visitors)."""
    row = engine.together_items[item]
    values = engine.together_values[item]
    order = np.argsort(-values, kind="stable")
    return [
        Candidate(int(row[i]), float(values[i]), KIND_TOGETHER, (int(item),))
        for i in order[:limit]
        if row[i] >= 0 and values[i] > 0
    ]


def engine_trending(engine: Engine, limit: int, customers: IntArray | None = None) -> list[Candidate]:
    """Recent decayed popularity, over every shopper or a subset (a region's)."""
    scores = engine.trending
    if customers is not None:
        member = np.zeros(engine.customers, dtype=bool)
        member[np.asarray(customers, dtype=np.int64)] = True
        chosen = member[engine.trending_line_customer]
        scores = _trending_scores(
            engine.trending_line_item[chosen], engine.trending_line_weight[chosen], engine.items
        )
    return _trending_list(scores, limit)


def engine_similarity(engine: Engine) -> Callable[[int, int], float]:
    """The engine's item-item similarity (bought-together cosine, symmetric, 0 when unrelated)."""
    table = engine._similarity
    if not table and engine.together.nnz:
        coo = engine.together.tocoo()
        keys = np.r_[coo.row * engine.items + coo.col, coo.col * engine.items + coo.row]
        values = np.r_[coo.data, coo.data]
        order = np.argsort(values, kind="stable")  # the larger of (i, j) and (j, i) wins
        table.update(zip(keys[order].tolist(), values[order].tolist(), strict=True))
    items = engine.items

    def similarity(first: int, second: int) -> float:
        if first == second:
            return 1.0
        return table.get(first * items + second, 0.0)

    return similarity


def engine_recommend(engine: Engine, customer: int, limit: int, **rerank_options: Any) -> list[Candidate]:
    """A shopper's list: candidates, then ``rerank``. The one path for serving and evaluation."""
    return engine_recommend_many(engine, np.array([customer], dtype=np.int64), limit, **rerank_options)[0]


def engine_recommend_many(
    engine: Engine, customers: IntArray, limit: int, **rerank_options: Any
) -> list[list[Candidate]]:
    """``engine_recommend`` for many shoppers, their candidates computed in batch."""
    options: dict[str, Any] = {
        "similarity": engine_similarity(engine),
        "diversity": engine.parameters.diversity,
    }
    options.update(rerank_options)
    pool = max(limit, limit * engine.parameters.candidate_pool)
    return [rerank(found, limit, **options) for found in engine_candidates(engine, customers, pool)]


def rerank(
    candidates: Sequence[Candidate],
    limit: int,
    *,
    similarity: Callable[[int, int], float] | None = None,
    similarity_matrix: Callable[[Sequence[int]], FloatArray] | None = None,
    category: Mapping[int, str] | None = None,
    usual_categories: Collection[str] = (),
    discovery_share: float = 0.0,
    diversity: float = DEFAULT_DIVERSITY,
    allowed: Callable[[int], bool] | None = None,
    boost: Mapping[int, float] | None = None,
) -> list[Candidate]:
    """The request-time list from precomputed candidates.

    Drops what ``allowed`` refuses, multiplies scores by ``boost`` (season, climate, told
    preferences; 1 when absent), then picks greedily by maximal marginal relevance: ``(1 -
    diversity) * score / best score - diversity * (highest similarity to an item already picked)``.
    Similarity is ``similarity`` (of two items) or ``similarity_matrix`` (of the items left to
    choose from, every pair at once: cheaper where it can be computed in arrays) and, with a
    ``category`` map, at least ``SAME_CATEGORY_SIMILARITY`` for two items of one category. With a
    category map and known ``usual_categories``, exactly ``round(limit * discovery_share)``
    places go to items of another category (kind ``discovery``, no evidence) when there are that
    many, and no more; items without a category count as usual. Without category information
    there is no discovery place.
    """
    pool = [c for c in candidates if allowed is None or allowed(c.item)]
    if boost:
        pool = [Candidate(c.item, c.score * boost.get(c.item, 1.0), c.kind, c.evidence) for c in pool]
    pool = [c for c in pool if c.score > 0]
    pool.sort(key=lambda c: -c.score)
    if not pool or limit <= 0:
        return []
    usual = set(usual_categories)
    outside = [
        category is not None and bool(usual) and c.item in category and category[c.item] not in usual
        for c in pool
    ]
    wanted = round(limit * discovery_share) if category is not None and usual else 0
    discovery_places = min(wanted, sum(outside))
    usual_places = limit - discovery_places

    best = pool[0].score
    relevance = np.array([c.score / best for c in pool])
    redundancy = np.zeros(len(pool))
    closeness = (
        _closeness([c.item for c in pool], similarity_matrix, category)
        if similarity_matrix is not None and diversity > 0
        else None
    )
    is_outside = np.array(outside, dtype=bool)
    chosen: list[int] = []
    taken = np.zeros(len(pool), dtype=bool)
    counts = [0, 0]  # usual, outside
    while len(chosen) < min(limit, len(pool)):
        eligible = ~taken & np.where(is_outside, counts[1] < discovery_places, counts[0] < usual_places)
        if not eligible.any():
            # One side ran out: the other fills the remaining places.
            eligible = ~taken
        value = np.where(eligible, (1 - diversity) * relevance - diversity * redundancy, -np.inf)
        pick = int(np.argmax(value))
        chosen.append(pick)
        taken[pick] = True
        counts[outside[pick]] += 1
        if closeness is not None:
            np.maximum(redundancy, closeness[pick], out=redundancy)
        elif diversity > 0:
            picked = pool[pick].item
            for index in np.flatnonzero(~taken):
                other = pool[index].item
                close = similarity(picked, other) if similarity is not None else 0.0
                if category is not None and picked in category and category.get(other) == category[picked]:
                    close = max(close, SAME_CATEGORY_SIMILARITY)
                redundancy[index] = max(redundancy[index], close)
    return [
        Candidate(pool[i].item, pool[i].score, KIND_DISCOVERY, ()) if outside[i] else pool[i] for i in chosen
    ]


def _closeness(
    items: Sequence[int],
    similarity_matrix: Callable[[Sequence[int]], FloatArray],
    category: Mapping[int, str] | None,
) -> FloatArray:
    """rerank's similarity of every pair of `items`, with the floor for a shared category."""
    closeness = similarity_matrix(items)
    if category is not None:
        codes = category_codes([category.get(item, "") for item in items])
        same = (codes[:, None] == codes[None, :]) & (codes[:, None] > 0)
        closeness = np.maximum(closeness, np.where(same, SAME_CATEGORY_SIMILARITY, 0.0))
    return closeness


def category_codes(names: Sequence[str]) -> IntArray:
    """Each name's number, the same for the same name, 0 for none (""): for comparing in arrays."""
    numbers: dict[str, int] = {"": 0}
    return np.array([numbers.setdefault(name, len(numbers)) for name in names], dtype=np.int64)


# --- fitting -------------------------------------------------------------------------------


def _baskets(customer: IntArray, order: IntArray, day: FloatArray) -> tuple[IntArray, FloatArray, IntArray]:
    """Each order's shopper and time, and each line's order (renumbered 0 .. orders-1)."""
    keys, line_basket = np.unique(order, return_inverse=True)
    basket_day = np.full(len(keys), np.inf)
    np.minimum.at(basket_day, line_basket, day)
    basket_customer = np.zeros(len(keys), dtype=np.int64)
    basket_customer[line_basket] = customer
    return basket_customer, basket_day, line_basket.astype(np.int64)


def _basket_places(basket_customer: IntArray, basket_day: FloatArray) -> tuple[IntArray, IntArray]:
    """Each order's place among its shopper's, 0 = the newest (the order's id breaks ties of
    time), and how many orders the shopper has."""
    baskets = len(basket_day)
    order = np.lexsort((-np.arange(baskets), -basket_day, basket_customer))
    sorted_customer = basket_customer[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_customer)) + 1] if baskets else np.zeros(0, np.int64)
    counts = np.diff(np.r_[first, baskets])
    place = np.empty(baskets, dtype=np.int64)
    place[order] = np.arange(baskets) - np.repeat(first, counts)
    total = np.empty(baskets, dtype=np.int64)
    total[order] = np.repeat(counts, counts)
    return place, total


def _own_vectors(
    basket_customer: IntArray,
    *,
    basket_day: FloatArray,
    entry_basket: IntArray,
    entry_item: IntArray,
    customers: int,
    items: int,
    parameters: EngineParameters,
) -> sparse.csr_matrix:
    """TIFU vectors (module docstring), rows scaled to a maximum of 1."""
    place, total = _basket_places(basket_customer, basket_day)
    size = parameters.group_size
    group = place // size
    groups = -(-total // size)
    group_length = np.minimum(size, total - group * size)
    weight = (
        parameters.within_group_decay ** (place % size)
        / group_length
        * parameters.group_decay**group
        / groups
    )
    own = sparse.csr_matrix(
        (weight[entry_basket], (basket_customer[entry_basket], entry_item)), shape=(customers, items)
    )
    own.sum_duplicates()
    return _rows_scaled(own, _row_max(own))


def _pool(own: sparse.csr_matrix, size: int) -> IntArray:
    """The shoppers searched for neighbours: everyone with a history, or a seeded sample."""
    active = np.flatnonzero(np.diff(own.indptr) > 0)
    if len(active) <= size:
        return active
    rng = np.random.default_rng(_SEED)
    return np.sort(rng.choice(active, size=size, replace=False))


def _together(
    entry_basket: IntArray,
    *,
    entry_item: IntArray,
    basket_age: FloatArray,
    baskets: int,
    items: int,
    parameters: EngineParameters,
) -> sparse.csr_matrix:
    """Item-item cosine over decayed orders, each item's best ``together_neighbours`` kept."""
    length = np.bincount(entry_basket, minlength=baskets).astype(np.float64)
    decay = 0.5 ** (basket_age / parameters.together_half_life_days)
    presence = sparse.csr_matrix(
        (np.ones(len(entry_item)), (entry_basket, entry_item)), shape=(baskets, items)
    )
    pair_weight = decay / np.maximum(length - 1, 1.0)
    counts = (presence.T @ sparse.diags(pair_weight) @ presence).tocsr()
    counts.setdiag(0.0)
    counts.eliminate_zeros()
    # The norm of an item: its decayed number of orders, pair-weighted as the counts are, so an
    # item's cosine with itself would be 1.
    norm = np.sqrt(np.asarray(presence.T @ pair_weight).ravel())
    norm[norm == 0] = 1.0
    cosine = _rows_scaled(counts, norm)
    cosine = (cosine @ sparse.diags(1.0 / norm)).tocsr()
    return _top_per_row(cosine, parameters.together_neighbours)


def _pair_orders(
    customer: IntArray, item: IntArray, day: FloatArray, order: IntArray, items: int
) -> tuple[IntArray, IntArray, IntArray]:
    """For each (shopper, item) bought, its distinct order ids, latest first."""
    key = customer * items + item
    sort = np.lexsort((-order, -day, key))
    key, order = key[sort], order[sort]
    distinct = np.r_[True, (key[1:] != key[:-1]) | (order[1:] != order[:-1])] if len(key) else key > 0
    key, order = key[distinct], order[distinct]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    return key[starts], np.r_[starts, len(key)].astype(np.int64), order


def _trending_scores(item: IntArray, weight: FloatArray, items: int) -> FloatArray:
    scores = np.bincount(item, weights=weight, minlength=items).astype(np.float64)
    top = scores.max() if len(scores) else 0.0
    return scores / top if top > 0 else scores


def _trending_list(scores: FloatArray, limit: int) -> list[Candidate]:
    order = np.argsort(-scores, kind="stable")[:limit]
    return [Candidate(int(i), float(scores[i]), KIND_TRENDING, ()) for i in order if scores[i] > 0]


# --- candidates ----------------------------------------------------------------------------


def _block_candidates(engine: Engine, customers: IntArray, limit: int) -> list[list[Candidate]]:
    own, components, score = _blend(engine, customers, engine.parameters)
    count = min(limit, engine.items)
    if count <= 0:
        return [[] for _ in customers]
    top = np.argpartition(-score, count - 1, axis=1)[:, :count] if count < engine.items else None
    out: list[list[Candidate]] = []
    for row, customer in enumerate(customers.tolist()):
        history = own.indices[own.indptr[row] : own.indptr[row + 1]]
        if len(history) == 0:
            out.append(_trending_list(engine.trending, limit))
            continue
        chosen = top[row] if top is not None else np.arange(engine.items)
        chosen = chosen[np.argsort(-score[row, chosen], kind="stable")]
        chosen = chosen[score[row, chosen] > 0]
        kinds = np.argmax(components[:, row, chosen], axis=0)
        out.append(
            [
                Candidate(
                    int(item),
                    float(score[row, item]),
                    SOURCE_KINDS[kind],
                    _evidence(
                        engine,
                        customer=customer,
                        item=int(item),
                        kind=kind,
                        history=history,
                        own=own,
                        neighbours_mean=components[1, row],
                        row=row,
                    ),
                )
                for item, kind in zip(chosen.tolist(), kinds.tolist(), strict=True)
            ]
        )
    return out


def _sources(engine: Engine, customers: IntArray) -> tuple[sparse.csr_matrix, FloatArray]:
    """The shoppers' own vectors, and the sources unweighted: block x items each, in the order
    of ``SOURCE_KINDS`` (own, neighbours' mean, bought together scaled to a row maximum of 1,
    trending)."""
    own = engine.own[customers]
    neighbours_mean = _neighbours(engine, customers) @ engine.own
    together = own @ engine.together
    together = _rows_scaled(together, _row_max(together))
    trending = np.broadcast_to(engine.trending, (len(customers), engine.items))
    return own, np.stack([own.toarray(), neighbours_mean.toarray(), together.toarray(), trending])


def _weighted(
    sources: NDArray[np.floating[Any]],
    trending: NDArray[np.floating[Any]],
    parameters: EngineParameters,
    *,
    in_place: bool = False,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """Each source's contribution (which decides the kind) and the blended score.

    The score multiplies the repeat and trending contributions by what sells now
    (``trending_floor + trending``), a timing factor rather than a source.
    """
    weights = np.array(
        [
            parameters.repeat_weight,
            1 - parameters.repeat_weight,
            parameters.together_weight,
            parameters.trending_weight,
        ],
        dtype=sources.dtype,
    )
    # In place for serving's blocks (a block's sources are used once); the tuner reuses its own.
    components = np.multiply(sources, weights[:, None, None], out=sources if in_place else None)
    now = (parameters.trending_floor + trending).astype(sources.dtype)
    score = (components[0] + components[3]) * now + components[1] + components[2]
    return components, score


def _blend(
    engine: Engine, customers: IntArray, parameters: EngineParameters
) -> tuple[sparse.csr_matrix, FloatArray, FloatArray]:
    own, sources = _sources(engine, customers)
    components, score = _weighted(sources, engine.trending, parameters, in_place=True)
    return own, np.asarray(components, dtype=np.float64), np.asarray(score, dtype=np.float64)


def _neighbours(engine: Engine, customers: IntArray) -> sparse.csr_matrix:
    """Block x customers weights averaging each shopper's ``neighbours`` nearest by cosine."""
    unit = engine.own_unit[customers]
    # Dense block x pool: a row's top-k by partition is far cheaper than sorting the sparse
    # product, whose rows hold most of the pool once popular items are shared.
    similarity = (unit @ engine.pool_unit_t).toarray()
    place = np.minimum(np.searchsorted(engine.pool, customers), max(len(engine.pool) - 1, 0))
    own_row = np.flatnonzero(engine.pool[place] == customers) if len(engine.pool) else place[:0]
    similarity[own_row, place[own_row]] = 0.0
    count = min(engine.parameters.neighbours, similarity.shape[1])
    if count <= 0:
        return sparse.csr_matrix((len(customers), engine.customers))
    top = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
    value = np.take_along_axis(similarity, top, axis=1)
    rows, column = np.nonzero(value > 0)
    neighbour = engine.pool[top[rows, column]]
    found = np.bincount(rows, minlength=len(customers)).astype(np.float64)
    return sparse.csr_matrix((1.0 / found[rows], (rows, neighbour)), shape=(len(customers), engine.customers))


def _evidence(
    engine: Engine,
    *,
    customer: int,
    item: int,
    kind: int,
    history: IntArray,
    own: sparse.csr_matrix,
    neighbours_mean: FloatArray,
    row: int,
) -> tuple[int, ...]:
    source = SOURCE_KINDS[kind]
    if source == KIND_REPEAT:
        where = int(np.searchsorted(engine.pair_key, customer * engine.items + item))
        return tuple(engine.pair_orders[engine.pair_start[where] : engine.pair_start[where + 1]].tolist())
    if source == KIND_TOGETHER:
        weights = own.data[own.indptr[row] : own.indptr[row + 1]]
        # The shopper's items whose together-row holds this item, by contribution.
        match = engine.together_items[history] == item
        contribution = np.where(match, engine.together_values[history], 0.0).sum(axis=1) * weights
        return _best(history, contribution)
    if source == KIND_SIMILAR:
        return _best(history, neighbours_mean[history])
    return ()


def _best(items: IntArray, weight: FloatArray) -> tuple[int, ...]:
    order = np.argsort(-weight, kind="stable")[:EVIDENCE_ITEMS]
    return tuple(int(items[i]) for i in order if weight[i] > 0)


# --- sparse helpers ------------------------------------------------------------------------


def _row_max(matrix: sparse.csr_matrix) -> FloatArray:
    return np.asarray(matrix.max(axis=1).toarray()).ravel() if matrix.nnz else np.zeros(matrix.shape[0])


def _rows_scaled(matrix: sparse.csr_matrix, divisor: FloatArray) -> sparse.csr_matrix:
    safe = np.where(divisor > 0, divisor, 1.0)
    scaled = matrix.tocsr(copy=True)
    scaled.data = scaled.data / np.repeat(safe, np.diff(scaled.indptr))
    return scaled


def _top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    matrix = matrix.tocsr()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((-matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    chosen = order[rank < keep]
    return sparse.csr_matrix(
        (matrix.data[chosen], (rows[chosen], matrix.indices[chosen])), shape=matrix.shape
    )


def _padded_rows(matrix: sparse.csr_matrix, width: int) -> tuple[IntArray, FloatArray]:
    rows = matrix.shape[0]
    indices = np.full((rows, max(width, 1)), -1, dtype=np.int64)
    values = np.zeros((rows, max(width, 1)))
    lengths = np.diff(matrix.indptr)
    row = np.repeat(np.arange(rows), lengths)
    place = np.arange(matrix.nnz) - matrix.indptr[row]
    indices[row, place] = matrix.indices
    values[row, place] = matrix.data
    return indices, values
