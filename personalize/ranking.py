"""The learnt ranker and the coverage allocation of the recommendation engine
(``personalize.recommend``): array functions that know nothing of shops, shoppers or sources.

- ``ranker_learn``: gradient-boosted trees (scikit-learn's histogram boosting, Ke et al.'s
  LightGBM design) of "in the next order" on one row per (shopper, candidate), learnt per shop on
  its own held-out orders; ``ranker_probability`` scores new rows with it.
- ``coverage_allocation``: which candidates get the coverage allowance, so that the shop's lists
  show more of its catalog for the least probability given up (module docstring of
  ``personalize.recommend``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import ThreadpoolController

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# The trees' settings: few and shallow, so a shop of 100,000 shoppers learns in seconds and the
# precompute scores its millions of rows in tens of seconds. On UCI Online Retail 60 to 300 trees
# of 8 to 63 leaves land within 0.01 of each other in recall.
TREES = 80
LEAVES = 15
LEARNING_RATE = 0.1
MINIMUM_LEAF = 100
_SEED = 20240601
# OpenMP, which the trees use: spread over the cores of a shared machine, each tree waits for
# the slowest thread while the others spin (personalize.clv's BLAS has the same story).
_THREADS = ThreadpoolController()


@dataclass(frozen=True)
class Ranker:
    """A shop's learnt model, and the share of its training rows that were in the next order."""

    model: HistGradientBoostingClassifier
    rows: int
    positive_share: float


def ranker_learn(
    features: NDArray[np.float32], labels: NDArray[np.bool_], weights: FloatArray | None = None
) -> Ranker:
    """Learn P(in the next order) from rows of features (binary log loss, each row weighing
    ``weights``)."""
    model = HistGradientBoostingClassifier(
        max_iter=TREES,
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=LEAVES,
        min_samples_leaf=MINIMUM_LEAF,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=_SEED,
    )
    with _THREADS.limit(limits=1, user_api="openmp"):
        model.fit(features, labels, sample_weight=weights)
    return Ranker(model=model, rows=len(labels), positive_share=float(np.mean(labels)))


def ranker_probability(ranker: Ranker, features: NDArray[np.float32]) -> FloatArray:
    """P(in the next order) per row."""
    if len(features) == 0:
        return np.zeros(0)
    with _THREADS.limit(limits=1, user_api="openmp"):
        return np.asarray(ranker.model.predict_proba(features)[:, 1], dtype=np.float64)


def coverage_allocation(
    items: IntArray, probability: FloatArray, k: int, allowance: float
) -> NDArray[np.bool_]:
    """Which candidates get ``allowance`` added to their probability, so that more of the catalog
    is listed somewhere among the first ``k`` places.

    ``items`` and ``probability`` are shoppers x candidates, each row sorted by probability. Greedy
    over every shopper at once, cheapest first: a candidate whose product no list shows yet takes
    the place of its shopper's last listed item when that item is shown in another list too and
    gives up at most ``allowance`` of probability. Every list stays its ``k`` best by probability
    plus allowance: what is displaced was its list's least, and scores at most the newcomer's.
    """
    shoppers, width = items.shape
    bonus = np.zeros(items.shape, dtype=bool)
    if allowance <= 0 or width <= k or shoppers == 0:
        return bonus
    exposure = np.bincount(items[:, :k].ravel(), minlength=int(items.max()) + 1)
    # Cheapest first by the cost against the k-th place (the real cost is never lower, see below).
    cost = probability[:, k - 1 : k] - probability[:, k:]
    row, column = np.nonzero((cost <= allowance) & (exposure[items[:, k:]] == 0))
    order = np.argsort(cost[row, column], kind="stable")
    listed: dict[int, list[int]] = {}  # a touched row's listed places, as places into the row
    for shopper, place in zip(row[order].tolist(), (column[order] + k).tolist(), strict=True):
        item = int(items[shopper, place])
        if exposure[item] > 0:
            continue
        places = listed.setdefault(shopper, list(range(k)))
        scores = [probability[shopper, p] + (allowance if bonus[shopper, p] else 0.0) for p in places]
        least = int(np.argmin(scores))
        displaced = places[least]
        if exposure[items[shopper, displaced]] < 2 or probability[shopper, place] + allowance < scores[least]:
            continue
        bonus[shopper, place] = True
        bonus[shopper, displaced] = False
        exposure[items[shopper, displaced]] -= 1
        exposure[item] += 1
        places[least] = place
    return bonus
