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

**Learnt ranker** (``_ranker_learn``, called by ``engine_fit`` unless ``ranker`` is off, so
serving's precompute and the evaluation take the one path again): the shop's own history is
backtested three times, stacked: up to ``ranker_shoppers`` shoppers (seeded sample) have their last
order held out, then their second last with the last dropped, then their third last; each time the
engine is fitted on what is left and each held-out shopper's ``ranker_candidates`` (40) best items
by the tuned blend become rows of ``RANKER_FEATURES`` (the four sources and the blend; the shopper's
orders holding the item, its share, orders and days since, days from it to the shopper's last order,
how many of their last three orders hold it, its bought-together score with their last order; the
shopper's orders, items, order size, days since their last order against their mean gap; the item's
buyers, their repeat share, its next-order rate, days since anyone bought it), labelled by the
held-out order, each weighing one over that order's size (recall averages, per shopper, the share of
their next order found). Gradient-boosted trees (``personalize.ranking``, scikit-learn's histogram
boosting: 80 trees of 15 leaves, one thread) learn P(in the next order) from them, and the
candidates are ordered by it. Kinds and evidence stay the blend's (the source that contributed
most), so every reason is still true. A shop with fewer than ``tune_minimum`` shoppers of two
orders, or fewer than ``ranker_minimum_positives`` held-out items among its candidates, keeps the
blend. Learning costs three more fits, the sources for the held-out shoppers and the trees. Measured
on a shared two-core machine at a load of 6 to 8 (the previous round's quiet 13 s took 39 s there):
a synthetic shop of the bench's size (100,000 shoppers, of whom 83,000 bought, 5,000 products, 1M
lines) fits in 109 s against 39 s for the blend alone, 74 s of it learning (30 s the backtests'
neighbour search, 10 s the trees on 186,000 rows), so about 35 s quiet; UCI Online Retail's full
file (337,000 training lines, 3,644 products, 184,000 rows) in 64 to 105 s against 20, its 08-31 cut
in 24 to 37 s. Serving's candidates cost about the same per shopper as before (the sources dominate;
20,000 shoppers in 105 s against 128 s, same load).

**Coverage allocation** (``engine_candidates``, over every shopper it is given; serving's
precompute gives ``BATCH`` at a time): what sells now tops many lists, so lists ordered by
probability show less of the catalog than own-then-popular. A candidate whose product no list
shows yet may take its shopper's last place among the first ``tune_k`` when what it displaces is
shown in another list too and it gives up at most an allowance of probability (greedy, cheapest
first over all shoppers, ``personalize.ranking.coverage_allocation``; its score becomes probability
plus allowance, so each list stays its best by score). The allowance is the least of
``COVERAGE_ALLOWANCES`` with which the lists show as many products as own-then-popular would for
the same shoppers, so each shop gets the trade-off its own catalog needs rather than a constant.
Offline, on the full file's top ten by probability, an allowance of 0.02 cost 0.007 of ratio for
coverage 0.49 -> 0.65 (0.04: 0.012 for 0.74); a popularity discount on the probability (``(1 +
buyers) ** -beta``) needed beta 0.3 and 0.027 of ratio for 0.63, and a discount by the item's
exposure in the undiscounted lists 0.086 for 0.62. At 08-31 the allocation takes 0.08.

Figures on UCI Online Retail, recall@10 as a ratio to own-then-popular in the same run, on the
full file / cut at 2011-10-31 / 08-31 / 06-30 (``evaluate_recommendations`` has the table):

- the learnt ranker with the coverage allocation, rows weighing one over their held-out order's
  size (kept): 1.131 / 1.098 / 1.118 / 1.094, coverage 0.622 / 0.580 / 0.579 / 0.543 against the
  baseline's 0.615 / 0.592 / 0.565 / 0.538 (above it but at 10-31, where the allocation reaches
  it on the first ten by score and the request-time MMR trades a little back), new-item recall
  0.0062 / 0.0079 / 0.0090 / 0.0108 against 0.0025 / 0.0018 / 0.0031 / 0.0045;
- the same with every row weighing 1: 1.140 / 1.082 / 1.122 / 1.076, coverage 0.628 / 0.634 /
  0.547 / 0.524, new-item recall 0.0075 / 0.0063 / 0.0096 / 0.0113. The weights follow the metric
  and gain on the cuts (offline, top ten by probability: +0.002 / +0.007 / +0.018 / +0.006; one
  over the square root of the size: +0.001 / -0.002 / +0.012 / -0.005); the full file's 0.009
  less is within what the allocation and MMR move;
- short of 1.15 either way: the ranker alone, ordered by probability without the allocation or
  MMR, reaches 1.14 / 1.08 / 1.12 / 1.08 whatever its size (60 to 300 trees of 8 to 63 leaves, 20
  to 60 candidates: within 0.01), with one to six stacked backtests (1.132 to 1.142 on the full
  file, no trend), and with the item's buyers in the last 7, 14, 30, 60 and 365 days as five more
  features (+0.000 / +0.005 / +0.008 / +0.001). The previous round's 1.163 with LightGBM (ranking
  loss, three backtests) was not reproduced with these features and binary loss; the noise
  between runs of one setting on one cut is about 0.005;

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

from personalize.ranking import Ranker, coverage_allocation, ranker_learn, ranker_probability

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
    # The learnt ranker (``_ranker_learn``): whether to learn one, how many of the blend's best
    # candidates it orders, how many of each shopper's last orders it is learnt on in turn, how
    # many shoppers' at most, and the fewest next-order items it needs to trust what it learnt.
    ranker: bool = True
    ranker_candidates: int = 40
    ranker_backtests: int = 3
    ranker_shoppers: int = 2000
    ranker_minimum_positives: int = 200


# What a candidate nobody else is shown may give up in probability for its place
# (``coverage_allocation``); ``engine_candidates`` takes the least that lists as many products as
# own-then-popular would for the same shoppers.
COVERAGE_ALLOWANCES = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08)


@dataclass(frozen=True)
class HistoryFacts:
    """What the ranker reads besides the sources. Pairs align with ``Engine.pair_key``; the
    shopper arrays have one row per shopper, the item arrays one per item."""

    pair_orders: FloatArray  # orders holding the item
    pair_last_day: FloatArray
    pair_first_day: FloatArray
    pair_since: FloatArray  # the shopper's orders since they last bought it (0: in the last)
    pair_recent: FloatArray  # of the shopper's last three orders, how many hold it
    shopper_orders: FloatArray
    shopper_items: FloatArray  # distinct
    shopper_order_size: FloatArray  # distinct items per order, mean
    shopper_first_day: FloatArray
    shopper_last_day: FloatArray
    item_buyers: FloatArray
    item_repeat_buyers: FloatArray  # of its buyers, those with two orders holding it or more
    item_next_rate: FloatArray  # of orders holding it, the share whose shopper's next one does too
    item_last_day: FloatArray
    last_order: sparse.csr_matrix  # shoppers x items, each shopper's last order


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
    facts: HistoryFacts
    tuning: Tuning | None = None  # what engine_tune found, when the parameters were tuned
    ranker: Ranker | None = None  # the learnt ranker, when the shop's history supports one
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
    customer, order, day, item = _kept_lines(purchases, as_of_day)

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
    facts = _history_facts(
        basket_customer,
        basket_day=basket_day,
        entry_basket=entry_basket,
        entry_item=entry_item,
        pair_key=pair_key,
        customers=customers,
        items=items,
    )
    ranker = _ranker_learn(purchases, customers, items, as_of_day, parameters) if parameters.ranker else None
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
        facts=facts,
        tuning=tuning,
        ranker=ranker,
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
    customer, order, day, item = _kept_lines(purchases, as_of_day)
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
    engine = engine_fit(training, customers, items, as_of_day, replace(base, ranker=False))
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
    """Up to ``limit`` candidates per shopper, best first, in blocks of ``block_size`` shoppers.

    With a learnt ranker the score is the probability of being in the shopper's next order, plus
    the coverage allowance for the candidates ``coverage_allocation`` chooses over all the
    shoppers given at once (serving's precompute gives the whole shop)."""
    customers = np.asarray(customers, dtype=np.int64)
    out: list[list[Candidate]] = []
    size = engine.parameters.block_size
    for start in range(0, len(customers), size):
        out.extend(_block_candidates(engine, customers[start : start + size], limit))
    if engine.ranker is not None:
        out = _coverage_allocated(engine, customers, out)
    return out


def _coverage_allocated(
    engine: Engine, customers: IntArray, lists: list[list[Candidate]]
) -> list[list[Candidate]]:
    """The lists with the least coverage allowance (``COVERAGE_ALLOWANCES``) whose first
    ``tune_k`` places show as many products as own-then-popular would for the same shoppers."""
    k = engine.parameters.tune_k
    width = max((len(found) for found in lists), default=0)
    if width <= k:
        return lists
    items = np.zeros((len(lists), width), dtype=np.int64)
    probability = np.full((len(lists), width), -1.0)  # padding: never cheap enough to list
    for row, found in enumerate(lists):
        items[row, : len(found)] = [c.item for c in found]
        probability[row, : len(found)] = [c.score for c in found]
    target = _own_then_popular_coverage(engine, customers, k)
    bonus = np.zeros(items.shape, dtype=bool)
    allowance = 0.0
    for allowance in COVERAGE_ALLOWANCES:
        bonus = coverage_allocation(items, probability, k, allowance)
        score = probability + allowance * bonus
        top = np.argsort(-score, axis=1, kind="stable")[:, :k]
        listed = np.take_along_axis(probability, top, axis=1) >= 0
        if len(np.unique(np.take_along_axis(items, top, axis=1)[listed])) >= target:
            break
    if not bonus.any():
        return lists
    out = []
    for row, found in enumerate(lists):
        scored = [
            replace(c, score=c.score + allowance) if bonus[row, place] else c for place, c in enumerate(found)
        ]
        out.append(sorted(scored, key=lambda c: -c.score))
    return out


def _own_then_popular_coverage(engine: Engine, customers: IntArray, k: int) -> int:
    """How many products the plain baseline lists for these shoppers: each one's own items by the
    number of orders holding them, the latest bought first among equals, then the most bought."""
    facts = engine.facts
    start = np.searchsorted(engine.pair_key, customers * engine.items)
    end = np.searchsorted(engine.pair_key, (customers + 1) * engine.items)
    ranges = [np.arange(s, e) for s, e in zip(start.tolist(), end.tolist(), strict=True)]
    owned = np.concatenate(ranges).astype(np.int64) if ranges else np.zeros(0, np.int64)
    shopper = engine.pair_key[owned] // engine.items
    ranked = owned[np.lexsort((-facts.pair_last_day[owned], -facts.pair_orders[owned], shopper))]
    shopper = engine.pair_key[ranked] // engine.items
    first = np.r_[0, np.flatnonzero(np.diff(shopper)) + 1] if len(ranked) else np.zeros(0, np.int64)
    place = np.arange(len(ranked)) - np.repeat(first, np.diff(np.r_[first, len(ranked)]))
    listed = set((engine.pair_key[ranked[place < k]] % engine.items).tolist())
    if (end - start < k).any():
        popular = np.argsort(-facts.item_buyers, kind="stable")[:k]
        listed.update(popular[facts.item_buyers[popular] > 0].tolist())
    return len(listed)


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


def _kept_lines(purchases: Purchases, as_of_day: float) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """The lines bought before `as_of_day` and kept (not returned): their shopper, order, day and
    item."""
    kept = (purchases.day < as_of_day) & (purchases.quantity > 0)
    return (
        np.asarray(purchases.customer, dtype=np.int64)[kept],
        np.asarray(purchases.order, dtype=np.int64)[kept],
        np.asarray(purchases.day, dtype=np.float64)[kept],
        np.asarray(purchases.item, dtype=np.int64)[kept],
    )


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
    count = min(max(limit, engine.parameters.ranker_candidates if engine.ranker else 0), engine.items)
    if count <= 0:
        return [[] for _ in customers]
    own, components, score, top = _blend_top(engine, customers, count)
    probability = None
    if engine.ranker is not None:
        features = _ranker_features(engine, customers, top, components, score)
        probability = ranker_probability(engine.ranker, features).reshape(top.shape)
    out: list[list[Candidate]] = []
    for row, customer in enumerate(customers.tolist()):
        history = own.indices[own.indptr[row] : own.indptr[row + 1]]
        if len(history) == 0:
            out.append(_trending_list(engine.trending, limit))
            continue
        listed = score[row, top[row]] > 0
        chosen = top[row][listed]
        value = score[row, chosen] if probability is None else probability[row][listed]
        order = np.argsort(-value, kind="stable")[:limit]
        chosen, value = chosen[order], value[order]
        kinds = np.argmax(components[:, row, chosen], axis=0)
        out.append(
            [
                Candidate(
                    int(item),
                    float(item_value),
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
                for item, item_value, kind in zip(
                    chosen.tolist(), value.tolist(), kinds.tolist(), strict=True
                )
            ]
        )
    return out


def _blend_top(
    engine: Engine, customers: IntArray, count: int
) -> tuple[sparse.csr_matrix, FloatArray, FloatArray, IntArray]:
    """The blend for a block of shoppers, and each one's ``count`` best items by it, best first."""
    own, components, score = _blend(engine, customers, engine.parameters)
    if count < engine.items:
        top = np.argpartition(-score, count - 1, axis=1)[:, :count]
    else:
        top = np.tile(np.arange(engine.items), (len(customers), 1))
    order = np.argsort(-np.take_along_axis(score, top, axis=1), axis=1, kind="stable")
    return own, components, score, np.take_along_axis(top, order, axis=1)


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


# --- the learnt ranker ---------------------------------------------------------------------

RANKER_FEATURES = (
    "own vector (TIFU)",
    "neighbours' mean",
    "bought together",
    "trending",
    "blend score",
    "place in the blend",
    "orders holding it",
    "share of the shopper's orders holding it",
    "days since the shopper last bought it",
    "the shopper's orders since",
    "days since the shopper first bought it",
    "days from it to the shopper's last order",
    "of the shopper's last three orders, holding it",
    "bought together with the shopper's last order",
    "the shopper's orders",
    "the shopper's distinct items",
    "the shopper's mean order size",
    "days since the shopper's last order",
    "the shopper's mean days between orders",
    "that gap's share elapsed",
    "buyers of the item (log)",
    "its buyers' repeat share",
    "its next-order rate",
    "days since anyone bought it",
)


def _history_facts(
    basket_customer: IntArray,
    *,
    basket_day: FloatArray,
    entry_basket: IntArray,
    entry_item: IntArray,
    pair_key: IntArray,
    customers: int,
    items: int,
) -> HistoryFacts:
    """``HistoryFacts`` from the orders (one entry per order and item)."""
    place, _ = _basket_places(basket_customer, basket_day)
    entry_customer = basket_customer[entry_basket]
    entry_day = basket_day[entry_basket]
    entry_place = place[entry_basket]
    pair = np.searchsorted(pair_key, entry_customer * items + entry_item)
    pairs = len(pair_key)
    pair_orders = np.bincount(pair, minlength=pairs).astype(np.float64)
    pair_last_day = np.full(pairs, -np.inf)
    np.maximum.at(pair_last_day, pair, entry_day)
    pair_first_day = np.full(pairs, np.inf)
    np.minimum.at(pair_first_day, pair, entry_day)
    pair_since = np.full(pairs, np.iinfo(np.int64).max)
    np.minimum.at(pair_since, pair, entry_place)
    pair_recent = np.bincount(pair, weights=(entry_place < 3) * 1.0, minlength=pairs).astype(np.float64)

    shopper_orders = np.bincount(basket_customer, minlength=customers).astype(np.float64)
    shopper_first_day = np.full(customers, np.inf)
    np.minimum.at(shopper_first_day, basket_customer, basket_day)
    shopper_last_day = np.full(customers, -np.inf)
    np.maximum.at(shopper_last_day, basket_customer, basket_day)
    pair_customer = pair_key // items
    pair_item = pair_key % items
    # The next order's entries: an entry at place p > 0 is followed when (shopper, item, p - 1) exists.
    places = int(entry_place.max()) + 1 if len(entry_place) else 1
    entry_key = (entry_customer * items + entry_item) * places + entry_place
    later = entry_place > 0
    followed = np.isin(entry_key[later] - 1, entry_key)
    item_next = np.bincount(entry_item[later], weights=followed.astype(np.float64), minlength=items)
    item_next_orders = np.bincount(entry_item[later], minlength=items)
    item_last_day = np.full(items, -np.inf)
    np.maximum.at(item_last_day, pair_item, pair_last_day)
    last = entry_place == 0
    return HistoryFacts(
        pair_orders=pair_orders,
        pair_last_day=pair_last_day,
        pair_first_day=pair_first_day,
        pair_since=pair_since.astype(np.float64),
        pair_recent=pair_recent,
        shopper_orders=shopper_orders,
        shopper_items=np.bincount(pair_customer, minlength=customers).astype(np.float64),
        shopper_order_size=np.bincount(entry_customer, minlength=customers) / np.maximum(shopper_orders, 1),
        shopper_first_day=shopper_first_day,
        shopper_last_day=shopper_last_day,
        item_buyers=np.bincount(pair_item, minlength=items).astype(np.float64),
        item_repeat_buyers=np.bincount(pair_item, weights=(pair_orders >= 2) * 1.0, minlength=items).astype(
            np.float64
        ),
        # Smoothed towards 0.1, so an item seen in two orders does not claim 0 or 1.
        item_next_rate=(item_next + 0.1) / (item_next_orders + 1.0),
        item_last_day=item_last_day,
        last_order=sparse.csr_matrix(
            (np.ones(int(last.sum())), (entry_customer[last], entry_item[last])), shape=(customers, items)
        ),
    )


def _ranker_features(
    engine: Engine, customers: IntArray, top: IntArray, components: FloatArray, score: FloatArray
) -> NDArray[np.float32]:
    """One row per (shopper, candidate) of ``top`` (block x candidates), ``RANKER_FEATURES``."""
    facts = engine.facts
    width = top.shape[1]
    row = np.repeat(np.arange(len(customers)), width)
    customer = customers[row]
    item = top.ravel()
    key = customer * engine.items + item
    pair = np.minimum(np.searchsorted(engine.pair_key, key), max(len(engine.pair_key) - 1, 0))
    own = engine.pair_key[pair] == key if len(engine.pair_key) else np.zeros(len(key), dtype=bool)
    now = engine.as_of_day
    never = 10_000.0  # days, for what the shopper never bought
    orders = facts.shopper_orders[customer]
    since_last_order = now - facts.shopper_last_day[customer]
    gap = (facts.shopper_last_day[customer] - facts.shopper_first_day[customer]) / np.maximum(orders - 1, 1)
    since_bought = np.where(own, now - facts.pair_last_day[pair], never)
    pair_orders = np.where(own, facts.pair_orders[pair], 0.0)
    with_last = (facts.last_order[customers] @ engine.together).toarray()
    columns = [
        components[0][row, item],
        components[1][row, item],
        components[2][row, item],
        engine.trending[item],
        score[row, item],
        np.tile(np.arange(width, dtype=np.float64), len(customers)),
        pair_orders,
        pair_orders / np.maximum(orders, 1),
        since_bought,
        np.where(own, facts.pair_since[pair], never),
        np.where(own, now - facts.pair_first_day[pair], never),
        since_bought - since_last_order,
        np.where(own, facts.pair_recent[pair], 0.0),
        with_last[row, item],
        orders,
        facts.shopper_items[customer],
        facts.shopper_order_size[customer],
        since_last_order,
        gap,
        since_last_order / np.maximum(gap, 1.0),
        np.log1p(facts.item_buyers[item]),
        facts.item_repeat_buyers[item] / np.maximum(facts.item_buyers[item], 1.0),
        facts.item_next_rate[item],
        np.minimum(now - facts.item_last_day[item], never),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def _ranker_learn(
    purchases: Purchases, customers: int, items: int, as_of_day: float, parameters: EngineParameters
) -> Ranker | None:
    """Learn the shop's ranker on its own history: for up to ``ranker_shoppers`` shoppers (a
    seeded sample), hold out their last order, then (a second backtest) their second last with
    the last dropped, and so on for ``ranker_backtests``; each time fit the engine on what is
    left, take every held-out shopper's ``ranker_candidates`` best by the blend, and learn which
    were in the held-out order. None when too few of them were (a small or young shop keeps the
    blend)."""
    customer, order, day, item = _kept_lines(purchases, as_of_day)
    basket_customer, basket_day, line_basket = _baskets(customer, order, day)
    place, total = _basket_places(basket_customer, basket_day)
    eligible = np.unique(basket_customer[total >= 2])
    if len(eligible) < parameters.tune_minimum:
        return None
    if len(eligible) > parameters.ranker_shoppers:
        eligible = np.sort(
            np.random.default_rng(_SEED).choice(eligible, size=parameters.ranker_shoppers, replace=False)
        )
    sampled = np.zeros(customers, dtype=bool)
    sampled[eligible] = True
    width = min(parameters.ranker_candidates, items)
    backtest = replace(parameters, ranker=False)
    features: list[NDArray[np.float32]] = []
    labels: list[NDArray[np.bool_]] = []
    # A row weighs one over its held-out order's size: recall averages, per shopper, the share of
    # their next order found, so an item of a three-item order counts ten times one of thirty.
    weights: list[FloatArray] = []
    for back in range(parameters.ranker_backtests):
        chosen = sampled[basket_customer] & (total >= back + 2)
        held = chosen & (place == back)
        if not held.any():
            break
        held_line = held[line_basket]
        training = ~held_line & ~(chosen & (place < back))[line_basket]
        engine = engine_fit(
            Purchases(
                customer=customer[training],
                item=item[training],
                day=day[training],
                quantity=np.ones(int(training.sum())),
                order=order[training],
            ),
            customers,
            items,
            as_of_day,
            backtest,
        )
        truth = np.unique(customer[held_line] * items + item[held_line])
        held_items = np.bincount(truth // items, minlength=customers).astype(np.float64)
        shoppers = basket_customer[held]
        for start in range(0, len(shoppers), parameters.block_size):
            block = shoppers[start : start + parameters.block_size]
            _, components, score, top = _blend_top(engine, block, width)
            features.append(_ranker_features(engine, block, top, components, score))
            labels.append(np.isin(np.repeat(block, width) * items + top.ravel(), truth))
            weights.append(np.repeat(1.0 / held_items[block], width))
    if not labels or int(sum(int(found.sum()) for found in labels)) < parameters.ranker_minimum_positives:
        return None
    return ranker_learn(np.concatenate(features), np.concatenate(labels), np.concatenate(weights))


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
