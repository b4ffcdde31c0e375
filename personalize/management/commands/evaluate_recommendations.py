"""python manage.py evaluate_recommendations --orders FILE.csv --k 10 --output recs.jsonl [--json FILE]

Hold out each customer's last order and see how much of it the recommendations find, for Omakase
(``personalize.recommend.engine_recommend_many``, the serving path, its blend tuned and its ranker
learnt on the training lines alone, as serving's are) and three baselines: popularity, the customer's
own most frequent items, own-then-popular.

Protocol (leave-last-basket-out, as in Hu et al., SIGIR 2020). Every customer with at least two
orders is evaluated; their last order (by ``ordered_at``, then ``order_id``, numerically when both
are numbers) is held out. The model is fitted once on every line not in a held-out order, with
``as_of`` just after the last of them. No held-out line is ever seen; what one customer's held-out
order can still "see" is other customers' training lines dated after it (their earlier orders),
which every method here gets alike, as in the protocol of the paper. The time-split check below
(the file cut at earlier dates, so that the held-out orders and everything after them differ) is
what tells whether a choice carries beyond one period.

Metrics, over the evaluated customers (an order's products counted once):

- recall@k: the share of the held-out products in the k recommended, averaged per customer;
- NDCG@k: binary relevance, ideal = the held-out products first;
- recall on repeat / new items: the same recall restricted to held-out products the customer had
  bought before / had not, averaged over the customers who have some;
- diversity: 1 - the mean pairwise similarity within a list, the similarity being the cosine of
  two products' buyer sets in the training lines (who bought them, not when or with what: the
  model's own bought-together similarity is over orders with decay and pruning, so it does not
  grade itself);
- coverage: the share of the products sold in the training lines recommended to someone.

``--until`` cuts the file at a date first (lines on later days are dropped), for the time splits.
Reads both formats of ``personalize.order_files``.

Evidence on UCI Online Retail, k = 10 (recall@10; Omakase over own-then-popular in the same run;
the file cut at a date holds out each customer's last order before it; the blend tuned, the ranker
learnt and the coverage allowance chosen on that cut's training lines):

==========  =========  =======  ================  =====  ==================  =================
data up to  customers  Omakase  own then popular  ratio  coverage (ours/b.)  new-item recall
==========  =========  =======  ================  =====  ==================  =================
2011-12-09  2,829      0.2053   0.1815            1.131  0.622 / 0.615       0.0062 / 0.0025
2011-10-31  2,421      0.1847   0.1682            1.098  0.580 / 0.592       0.0079 / 0.0018
2011-08-31  1,935      0.2111   0.1888            1.118  0.579 / 0.565       0.0090 / 0.0031
2011-06-30  1,597      0.1931   0.1765            1.094  0.543 / 0.538       0.0108 / 0.0045
==========  =========  =======  ================  =====  ==================  =================

With the tuned blend alone (the previous round) the ratios were 1.109 / 1.074 / 1.104 / 1.053 at
coverage 0.541 / 0.520 / 0.472 / 0.497 and new-item recall 0.0057 / 0.0065 / 0.0078 / 0.0080;
with fixed defaults, 1.107 / 1.076 / 1.104 / 1.060 at coverage 0.489 / 0.461 / 0.442 / 0.430.
With the ranker's rows all weighing 1 (this round's first version): 1.140 / 1.082 / 1.122 / 1.076
at coverage 0.628 / 0.634 / 0.547 / 0.524. NDCG@10 and repeat recall are higher on every cut
(0.298 vs 0.257 and 0.505 vs 0.443 on the full file). Coverage is above the baseline's but at
10-31, where the allocation reaches it on the first ten by score and the request-time MMR trades
a little back.
Still short of the issue's 1.15x. ``personalize.recommend``'s docstring has what else was tried,
with figures.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from numpy.typing import NDArray
from scipy import sparse

from personalize.order_files import EPOCH, OrderLines, order_lines_read
from personalize.ranking import Ranker
from personalize.recommend import (
    Engine,
    EngineParameters,
    Purchases,
    Tuning,
    engine_fit,
    engine_recommend_many,
)

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Holdout:
    """The split: training lines, and per evaluated customer the held-out products."""

    training: Purchases
    customers: IntArray  # evaluated customers (indexes)
    held_out: list[IntArray]  # distinct products of each one's last order
    as_of_day: float
    items: int
    customer_count: int


@dataclass(frozen=True)
class Score:
    name: str
    recall: float
    ndcg: float
    recall_repeat: float
    recall_new: float
    diversity: float
    coverage: float


class Command(BaseCommand):
    help = "Evaluate the recommendations on an order history by holding out each customer's last order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", required=True, help="order lines, CSV or CSV.gz")
        parser.add_argument("--k", type=int, default=10, help="list length")
        parser.add_argument("--output", required=True, help="where to write Omakase's lists (JSON lines)")
        parser.add_argument("--json", help="where to write the metrics (JSON)")
        parser.add_argument("--until", help="drop lines after this day first, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        k = int(options["k"])
        if k <= 0:
            raise CommandError("--k must be positive")
        try:
            lines = order_lines_read(options["orders"])
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {options['orders']}: {error}") from error
        if options["until"]:
            lines = order_lines_until(lines, _date(options["until"]))
        started = time.perf_counter()
        holdout = holdout_split(lines)
        if len(holdout.customers) == 0:
            raise CommandError("no customer has two orders")
        engine = recommendations_engine(holdout)
        lists, scores = recommendations_evaluate(holdout, k, engine=engine)
        seconds = time.perf_counter() - started
        with Path(options["output"]).open("w", encoding="utf-8") as handle:
            for customer, products in zip(holdout.customers.tolist(), lists, strict=True):
                record = {
                    "customer_id": lines.customer_ids[customer],
                    "products": [lines.product_ids[p] for p in products],
                }
                handle.write(json.dumps(record) + "\n")
        self.stdout.write(
            f"{len(holdout.customers)} customers evaluated, {len(holdout.training)} training lines, "
            f"{int(np.count_nonzero(np.bincount(holdout.training.item, minlength=holdout.items)))} "
            f"products; {seconds:.1f} s"
        )
        self.stdout.write(tuning_describe(engine.tuning))
        self.stdout.write(ranker_describe(engine.ranker))
        self.stdout.write(scores_table(scores, k))
        if options["json"]:
            report = {
                "k": k,
                "customers": len(holdout.customers),
                "scores": [asdict(score) for score in scores],
            }
            Path(options["json"]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def order_lines_until(lines: OrderLines, last_day: date) -> OrderLines:
    """The lines on or before ``last_day`` (ids and numbering kept)."""
    kept = lines.ordered_at < float((last_day - EPOCH.date()).days + 1)
    return OrderLines(
        customer_ids=lines.customer_ids,
        order_ids=lines.order_ids,
        product_ids=lines.product_ids,
        customer=lines.customer[kept],
        order=lines.order[kept],
        product=lines.product[kept],
        ordered_at=lines.ordered_at[kept],
        quantity=lines.quantity[kept],
        price=lines.price[kept],
    )


def holdout_split(lines: OrderLines) -> Holdout:
    """Hold out the last order of every customer with two or more (module docstring)."""
    orders = len(lines.order_ids)
    order_time = np.full(orders, np.inf)
    np.minimum.at(order_time, lines.order, lines.ordered_at)
    order_customer = np.full(orders, -1, dtype=np.int64)
    order_customer[lines.order] = lines.customer
    present = np.flatnonzero(order_customer >= 0)
    tie = _id_rank(lines.order_ids)[present]
    ranked = present[np.lexsort((tie, order_time[present], order_customer[present]))]
    ranked_customer = order_customer[ranked]
    last = np.r_[ranked_customer[1:] != ranked_customer[:-1], True]
    first = np.r_[True, ranked_customer[1:] != ranked_customer[:-1]]
    evaluated = last & ~first  # the customer's last order, and not their only one
    held_order = np.zeros(orders, dtype=bool)
    held_order[ranked[evaluated]] = True
    customers = ranked_customer[evaluated]

    train = ~held_order[lines.order]
    training = Purchases(
        customer=lines.customer[train],
        item=lines.product[train],
        day=lines.ordered_at[train],
        quantity=lines.quantity[train],
        order=lines.order[train],
    )
    held = held_order[lines.order]
    held_customer, held_product = lines.customer[held], lines.product[held]
    matrix = sparse.csr_matrix(
        (np.ones(len(held_product)), (held_customer, held_product)),
        shape=(len(lines.customer_ids), len(lines.product_ids)),
    )
    held_out = [matrix.indices[matrix.indptr[c] : matrix.indptr[c + 1]].astype(np.int64) for c in customers]
    return Holdout(
        training=training,
        customers=customers,
        held_out=held_out,
        as_of_day=float(training.day.max()) + 1 / 1440 if len(training) else 0.0,
        items=len(lines.product_ids),
        customer_count=len(lines.customer_ids),
    )


def recommendations_engine(holdout: Holdout, parameters: EngineParameters | None = None) -> Engine:
    """The engine fitted on the training lines; without ``parameters``, tuned for this shop on its
    training lines alone (``engine_tune``), as serving fits it."""
    return engine_fit(holdout.training, holdout.customer_count, holdout.items, holdout.as_of_day, parameters)


def recommendations_evaluate(
    holdout: Holdout, k: int, parameters: EngineParameters | None = None, *, engine: Engine | None = None
) -> tuple[list[list[int]], list[Score]]:
    """Omakase's lists, and every method's scores."""
    training = holdout.training
    engine = engine or recommendations_engine(holdout, parameters)
    ours = [[c.item for c in found] for found in engine_recommend_many(engine, holdout.customers, k)]
    bought = sparse.csr_matrix(
        (np.ones(len(training)), (training.customer, training.item)),
        shape=(holdout.customer_count, holdout.items),
    )
    bought.sum_duplicates()
    buyers = bought.copy()
    buyers.data[:] = 1.0
    popular = _popular(buyers, k)
    own = _own_most_frequent(training, holdout, k)
    own_then_popular = [_filled(mine, popular, k) for mine in own]
    methods = [
        ("Omakase", ours),
        ("popularity", [popular] * len(holdout.customers)),
        ("own most frequent", own),
        ("own then popular", own_then_popular),
    ]
    similarity = _ItemCosine(buyers)
    return ours, [
        _score(name, lists=lists, holdout=holdout, bought=bought, similarity=similarity, k=k)
        for name, lists in methods
    ]


def ranker_describe(ranker: Ranker | None) -> str:
    """One line on the learnt ranker (personalize.recommend's docstring), or why there is none."""
    if ranker is None:
        return "no learnt ranker (too few held-out orders in the training lines): the blend orders the lists"
    return (
        f"ranker learnt on {ranker.rows} candidates of three stacked internal backtests, "
        f"{ranker.positive_share:.3f} of them in the held-out order"
    )


def tuning_describe(tuning: Tuning | None) -> str:
    """One line on what engine_tune chose, and what its internal backtest saw."""
    if tuning is None:
        return "parameters given, not tuned"
    chosen = tuning.parameters
    weights = (
        f"repeat_weight={chosen.repeat_weight}, together_weight={chosen.together_weight}, "
        f"trending_weight={chosen.trending_weight}, trending_floor={chosen.trending_floor}"
    )
    if tuning.recall != tuning.recall:  # NaN: too few shoppers to tune
        return f"defaults kept ({tuning.shoppers} shoppers with two orders in the training lines): {weights}"
    return (
        f"tuned on {tuning.shoppers} shoppers' last training orders: {weights}; internal recall "
        f"{tuning.recall:.4f} (defaults {tuning.default_recall:.4f}), coverage {tuning.coverage:.3f} "
        f"(defaults {tuning.default_coverage:.3f})"
    )


def scores_table(scores: list[Score], k: int) -> str:
    header = (
        f"{'method':<20}{f'recall@{k}':>10}{f'NDCG@{k}':>9}{'repeat':>9}{'new':>9}"
        f"{'diversity':>11}{'coverage':>10}"
    )
    rows = [
        f"{s.name:<20}{s.recall:>10.4f}{s.ndcg:>9.4f}{s.recall_repeat:>9.4f}{s.recall_new:>9.4f}"
        f"{s.diversity:>11.4f}{s.coverage:>10.4f}"
        for s in scores
    ]
    return "\n".join([header, *rows])


def _popular(buyers: sparse.csr_matrix, k: int) -> list[int]:
    counts = np.asarray(buyers.sum(axis=0)).ravel()
    order = np.argsort(-counts, kind="stable")[:k]
    return [int(i) for i in order if counts[i] > 0]


def _own_most_frequent(training: Purchases, holdout: Holdout, k: int) -> list[list[int]]:
    """Each evaluated customer's items by number of orders holding them, the latest bought first
    among equals."""
    key = training.customer * holdout.items + training.item
    distinct = np.unique(np.stack([key, training.order]), axis=1)[0]
    pair, orders = np.unique(distinct, return_counts=True)
    latest = np.full(len(pair), -np.inf)
    np.maximum.at(latest, np.searchsorted(pair, key), training.day)
    customer, item = pair // holdout.items, pair % holdout.items
    ranked = np.lexsort((-latest, -orders, customer))
    customer, item = customer[ranked], item[ranked]
    start = np.searchsorted(customer, holdout.customers, side="left")
    end = np.minimum(np.searchsorted(customer, holdout.customers, side="right"), start + k)
    return [item[s:e].tolist() for s, e in zip(start.tolist(), end.tolist(), strict=True)]


def _filled(first: list[int], then: list[int], k: int) -> list[int]:
    seen = set(first)
    return (first + [item for item in then if item not in seen])[:k]


class _ItemCosine:
    """Cosine of two products' buyer sets in the training lines (the evaluation's own similarity)."""

    def __init__(self, buyers: sparse.csr_matrix) -> None:
        columns = buyers.tocsc()
        norm = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
        norm[norm == 0] = 1.0
        self.unit = (columns @ sparse.diags(1.0 / norm)).T.tocsr()  # items x customers

    def mean_pairwise(self, items: list[int]) -> float:
        if len(items) < 2:
            return float("nan")
        rows = self.unit[items]
        gram = (rows @ rows.T).toarray()
        count = len(items)
        return float((gram.sum() - np.trace(gram)) / (count * (count - 1)))


def _score(
    name: str,
    *,
    lists: list[list[int]],
    holdout: Holdout,
    bought: sparse.csr_matrix,
    similarity: _ItemCosine,
    k: int,
) -> Score:
    recall: list[float] = []
    ndcg: list[float] = []
    repeat: list[float] = []
    new: list[float] = []
    similar: list[float] = []
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    cache: dict[tuple[int, ...], float] = {}
    for customer, truth, chosen in zip(holdout.customers.tolist(), holdout.held_out, lists, strict=True):
        top = np.asarray(chosen[:k], dtype=np.int64)
        hit = np.isin(top, truth)
        recall.append(hit.sum() / len(truth))
        ndcg.append(float(discount[: len(top)][hit].sum() / discount[: min(k, len(truth))].sum()))
        before = bought.indices[bought.indptr[customer] : bought.indptr[customer + 1]]
        was_bought = np.isin(truth, before)
        for subset, into in ((truth[was_bought], repeat), (truth[~was_bought], new)):
            if len(subset):
                into.append(np.isin(subset, top).sum() / len(subset))
        key = tuple(sorted(chosen[:k]))
        if key not in cache:
            cache[key] = similarity.mean_pairwise(list(key))
        similar.append(cache[key])
    sold = int(np.count_nonzero(np.diff(bought.tocsc().indptr)))
    recommended = len({item for chosen in lists for item in chosen[:k]})
    return Score(
        name=name,
        recall=float(np.mean(recall)),
        ndcg=float(np.mean(ndcg)),
        recall_repeat=float(np.mean(repeat)) if repeat else float("nan"),
        recall_new=float(np.mean(new)) if new else float("nan"),
        diversity=float(1 - np.nanmean(similar)) if not np.all(np.isnan(similar)) else float("nan"),
        coverage=recommended / sold if sold else 0.0,
    )


def _id_rank(ids: list[str]) -> IntArray:
    """Each id's place in natural order: numbers by value before other text."""
    order = sorted(
        range(len(ids)), key=lambda i: (0, int(ids[i]), "") if ids[i].isdigit() else (1, 0, ids[i])
    )
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from error
