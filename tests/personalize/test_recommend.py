"""The recommendation engine (personalize/recommend.py) and its evaluation command."""

import csv
import gzip
import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command

from personalize.recommend import (
    KIND_DISCOVERY,
    KIND_REPEAT,
    KIND_SIMILAR,
    KIND_TOGETHER,
    KIND_TRENDING,
    Candidate,
    EngineParameters,
    FloatArray,
    Purchases,
    engine_candidates,
    engine_fit,
    engine_recommend,
    engine_related,
    engine_similarity,
    engine_trending,
    engine_tune,
    rerank,
)

AS_OF = 400.0


class Shop:
    """Purchases written order by order: ``buy(customer, day, items)``."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float, int]] = []
        self.next_order = 1000

    def buy(self, customer: int, day: float, items: list[int]) -> int:
        order = self.next_order
        self.next_order += 1
        self.rows.extend((customer, item, day, order) for item in items)
        return order

    def purchases(self) -> Purchases:
        customer, item, day, order = (np.array(column) for column in zip(*self.rows, strict=True))
        return Purchases(
            customer=customer.astype(np.int64),
            item=item.astype(np.int64),
            day=day.astype(np.float64),
            quantity=np.ones(len(customer)),
            order=order.astype(np.int64),
        )


def random_shop(customers: int = 60, items: int = 40, seed: int = 3) -> Shop:
    rng = np.random.default_rng(seed)
    shop = Shop()
    for customer in range(customers):
        taste = rng.choice(items, size=8, replace=False)
        for _ in range(rng.integers(1, 6)):
            basket = rng.choice(taste, size=rng.integers(1, 4), replace=False)
            shop.buy(customer, float(rng.uniform(0, AS_OF)), sorted(basket.tolist()))
    return shop


def test_a_repeat_buyer_gets_their_regular_item_first_with_the_orders_as_evidence() -> None:
    shop = Shop()
    orders = [shop.buy(0, day, [1, 5 + int(day) % 3]) for day in (100.0, 200.0, 300.0)]
    for customer in range(1, 20):
        shop.buy(customer, 350.0, [2, 3])

    engine = engine_fit(shop.purchases(), 20, 10, AS_OF)
    [candidates] = engine_candidates(engine, np.array([0]), 5)

    assert candidates[0].item == 1
    assert candidates[0].kind == KIND_REPEAT
    assert candidates[0].evidence == tuple(reversed(orders))  # latest first


def test_bought_together_follows_co_purchases() -> None:
    shop = Shop()
    for customer in range(1, 15):
        shop.buy(customer, 300.0, [1, 2])  # 1 and 2 go together
        shop.buy(customer, 310.0, [3])
    shop.buy(0, 390.0, [1])
    parameters = EngineParameters(repeat_weight=1.0, trending_weight=0.0)  # no neighbours, no trend

    engine = engine_fit(shop.purchases(), 15, 5, AS_OF, parameters)
    [candidates] = engine_candidates(engine, np.array([0]), 5)

    together = [c for c in candidates if c.kind == KIND_TOGETHER]
    assert [c.item for c in together][:1] == [2]
    assert together[0].evidence == (1,)
    assert 3 not in [c.item for c in candidates]  # bought by the same people, never with 1
    assert [c.item for c in engine_related(engine, 1, 3)] == [2]


def test_similar_shoppers_recommend_what_the_neighbours_bought() -> None:
    shop = Shop()
    for customer in range(1, 8):  # shoppers like 0 also buy 3, in separate orders
        shop.buy(customer, 100.0, [1])
        shop.buy(customer, 150.0, [2])
        shop.buy(customer, 200.0, [3])
    for customer in range(8, 20):  # others buy something else
        shop.buy(customer, 100.0, [4, 5])
    shop.buy(0, 300.0, [1])
    shop.buy(0, 320.0, [2])
    parameters = EngineParameters(together_weight=0.0, trending_weight=0.0)

    engine = engine_fit(shop.purchases(), 20, 6, AS_OF, parameters)
    [candidates] = engine_candidates(engine, np.array([0]), 5)

    similar = [c for c in candidates if c.kind == KIND_SIMILAR]
    assert [c.item for c in similar] == [3]
    assert set(similar[0].evidence) == {1, 2}
    assert {c.item for c in candidates} == {1, 2, 3}  # nothing of the other crowd


@pytest.mark.parametrize("customers", [60, 300])  # too small to tune, and tuned
def test_every_candidates_evidence_is_true(customers: int) -> None:
    shop = random_shop(customers=customers)
    purchases = shop.purchases()
    engine = engine_fit(purchases, customers + 1, 40, AS_OF)
    history: dict[int, set[int]] = {}
    order_items: dict[int, set[int]] = {}
    order_customer: dict[int, int] = {}
    for customer, item, order in zip(purchases.customer, purchases.item, purchases.order, strict=True):
        history.setdefault(int(customer), set()).add(int(item))
        order_items.setdefault(int(order), set()).add(int(item))
        order_customer[int(order)] = int(customer)

    lists = engine_candidates(engine, np.arange(customers + 1), 15)

    assert all(lists)
    for customer, candidates in enumerate(lists):
        assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
        for candidate in candidates:
            if candidate.kind == KIND_REPEAT:
                assert candidate.evidence
                for order in candidate.evidence:
                    assert order_customer[order] == customer
                    assert candidate.item in order_items[order]
            elif candidate.kind in (KIND_TOGETHER, KIND_SIMILAR):
                assert candidate.evidence
                assert set(candidate.evidence) <= history[customer]
            else:
                assert candidate.kind == KIND_TRENDING
                assert candidate.evidence == ()
    assert all(c.kind == KIND_TRENDING for c in lists[customers])  # the last customer never bought


def regulars_shop(customers: int = 300) -> Shop:
    """Every shopper rebuys their own three items, with one other item now and then."""
    rng = np.random.default_rng(5)
    shop = Shop()
    for customer in range(customers):
        usual = sorted(rng.choice(60, size=3, replace=False).tolist())
        for number in range(4):
            shop.buy(customer, 50.0 + 80 * number + customer % 7, [*usual, int(rng.integers(60, 80))])
    return shop


def explorers_shop(customers: int = 300) -> Shop:
    """Shoppers never buy an item twice: each order is two new items of their taste group (twenty
    items), so what their group's other shoppers bought is the signal and their own is none."""
    rng = np.random.default_rng(6)
    shop = Shop()
    for customer in range(customers):
        group = customer % 8
        items = (20 * group + rng.permutation(20)).tolist()
        for number in range(4):
            shop.buy(customer, 50.0 + 80 * number + customer % 7, sorted(items[2 * number : 2 * number + 2]))
    return shop


def test_tuning_gives_each_shop_the_weights_its_history_supports() -> None:
    parameters = EngineParameters(tune_k=4)
    regulars = regulars_shop()
    explorers = explorers_shop()

    for_regulars = engine_tune(regulars.purchases(), 300, 160, AS_OF, parameters)
    for_explorers = engine_tune(explorers.purchases(), 300, 160, AS_OF, parameters)

    assert for_regulars.shoppers == for_explorers.shoppers == 300
    assert for_explorers.parameters.repeat_weight < for_regulars.parameters.repeat_weight
    assert for_explorers.parameters.repeat_weight < parameters.repeat_weight
    assert for_explorers.recall > for_explorers.default_recall
    assert for_regulars.recall >= for_regulars.default_recall * (1 - parameters.tune_tolerance)


def test_fitting_without_parameters_tunes_and_a_small_shop_keeps_the_defaults() -> None:
    big = engine_fit(explorers_shop().purchases(), 300, 160, AS_OF)
    small = engine_fit(random_shop(customers=30).purchases(), 30, 40, AS_OF)

    assert big.tuning is not None
    assert big.parameters == big.tuning.parameters
    assert big.parameters != EngineParameters()
    assert small.tuning is not None
    assert small.tuning.shoppers < EngineParameters().tune_minimum
    assert small.parameters == EngineParameters()


def test_tuning_holds_out_only_what_it_scores_and_is_repeatable() -> None:
    purchases = random_shop(customers=300).purchases()

    first = engine_tune(purchases, 300, 40, AS_OF, EngineParameters(tune_shoppers=120))
    second = engine_tune(purchases, 300, 40, AS_OF, EngineParameters(tune_shoppers=120))

    assert first == second
    assert first.shoppers == 120


def test_trending_counts_recent_orders_and_can_be_limited_to_a_region() -> None:
    shop = Shop()
    for customer in range(5):
        shop.buy(customer, 395.0, [1])
        shop.buy(customer, 100.0, [2])  # long ago: outside the window
    shop.buy(5, 398.0, [3])

    engine = engine_fit(shop.purchases(), 6, 4, AS_OF)

    assert [c.item for c in engine_trending(engine, 3)] == [1, 3]
    assert [c.item for c in engine_trending(engine, 3, customers=np.array([5]))] == [3]


def candidates_of(*items: int) -> list[Candidate]:
    return [Candidate(item, 1.0 - 0.01 * rank, KIND_REPEAT, (99,)) for rank, item in enumerate(items)]


def test_rerank_drops_what_is_not_allowed_and_applies_boosts() -> None:
    candidates = candidates_of(1, 2, 3, 4)

    chosen = rerank(candidates, 3, allowed=lambda item: item != 1, boost={4: 2.0}, diversity=0.0)

    assert [c.item for c in chosen] == [4, 2, 3]
    assert chosen[0].score == pytest.approx(2 * 0.97)


@pytest.mark.parametrize(("limit", "share"), [(10, 0.2), (10, 0.25), (6, 0.5), (5, 0.0)])
def test_rerank_gives_the_discovery_share_exactly(limit: int, share: float) -> None:
    candidates = candidates_of(*range(30))
    category = {item: "usual" if item < 20 else f"other-{item % 3}" for item in range(30)}

    chosen = rerank(candidates, limit, category=category, usual_categories={"usual"}, discovery_share=share)

    discovery = [c for c in chosen if category[c.item] != "usual"]
    assert len(chosen) == limit
    assert len(discovery) == round(limit * share)
    assert all(c.kind == KIND_DISCOVERY and c.evidence == () for c in discovery)
    assert all(c.kind == KIND_REPEAT for c in chosen if category[c.item] == "usual")


def test_rerank_without_category_information_keeps_every_kind() -> None:
    chosen = rerank(candidates_of(1, 2, 3), 3, discovery_share=0.5, usual_categories={"usual"})

    assert [c.kind for c in chosen] == [KIND_REPEAT] * 3


def test_rerank_diversifies_by_mmr() -> None:
    # Items 0-4 are near copies of each other; 5-9 are unrelated to everything.
    def similarity(first: int, second: int) -> float:
        return 1.0 if first == second else 0.9 if max(first, second) < 5 else 0.0

    candidates = candidates_of(*range(10))

    plain = rerank(candidates, 4, similarity=similarity, diversity=0.0)
    diverse = rerank(candidates, 4, similarity=similarity, diversity=0.3)

    def mean_similarity(chosen: list[Candidate]) -> float:
        pairs = [(a.item, b.item) for i, a in enumerate(chosen) for b in chosen[i + 1 :]]
        return sum(similarity(a, b) for a, b in pairs) / len(pairs)

    assert [c.item for c in plain] == [0, 1, 2, 3]
    assert diverse[0].item == 0
    assert mean_similarity(diverse) < mean_similarity(plain)


def test_rerank_takes_the_similarity_of_every_pair_at_once_as_it_takes_it_pair_by_pair() -> None:
    rng = np.random.default_rng(7)
    similar = rng.random((40, 40))
    similar = np.maximum(similar, similar.T)

    def similarity(first: int, second: int) -> float:
        return float(similar[first, second])

    def similarity_matrix(items: Sequence[int]) -> FloatArray:
        return similar[np.ix_(items, items)]

    category = {item: f"kind {item % 5}" for item in range(40)}
    candidates = [Candidate(item, float(rng.random()), KIND_REPEAT, ()) for item in range(40)]
    options: dict[str, Any] = {
        "category": category,
        "usual_categories": {"kind 0", "kind 1"},
        "discovery_share": 0.3,
        "diversity": 0.4,
        "boost": {3: 2.0},
    }

    by_pairs = rerank(candidates, 10, similarity=similarity, **options)
    at_once = rerank(candidates, 10, similarity_matrix=similarity_matrix, **options)

    assert at_once == by_pairs
    assert [c.item for c in by_pairs] != [c.item for c in rerank(candidates, 10, **options)]


def test_engine_recommend_is_candidates_then_rerank() -> None:
    engine = engine_fit(random_shop().purchases(), 61, 40, AS_OF)
    options = {"allowed": lambda item: item % 4 != 0, "boost": {7: 1.5}}

    for customer in (0, 5, 60):
        recommended = engine_recommend(engine, customer, 6, **options)

        [candidates] = engine_candidates(engine, np.array([customer]), 6 * engine.parameters.candidate_pool)
        expected = rerank(
            candidates,
            6,
            similarity=engine_similarity(engine),
            diversity=engine.parameters.diversity,
            **options,  # type: ignore[arg-type]
        )
        assert recommended == expected
        assert all(c.item % 4 != 0 for c in recommended)


def test_the_neighbour_sample_still_finds_neighbours_in_a_big_shop() -> None:
    engine = engine_fit(
        random_shop(customers=300).purchases(), 300, 40, AS_OF, EngineParameters(neighbour_pool=50)
    )

    assert len(engine.pool) == 50
    lists = engine_candidates(engine, np.arange(300), 10)
    assert any(c.kind == KIND_SIMILAR for candidates in lists for c in candidates)


def order_rows(start: date) -> list[tuple[str, str, str, str, int, str]]:
    """Five customers with two to three orders each, over products P1..P6."""
    rows = []
    order = 1
    for customer in range(5):
        for number in range(2 + customer % 2):
            when = (start + timedelta(days=10 * number + customer)).isoformat() + "T10:00:00+00:00"
            for product in (f"P{1 + (customer + number) % 6}", f"P{1 + (customer + 2) % 6}"):
                rows.append((f"c{customer}", f"o{order}", when, product, 1, "9.50"))
            order += 1
    return rows


def test_evaluate_recommendations_reads_the_orders_format(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "order_id", "ordered_at", "product_id", "quantity", "price"])
        writer.writerows(order_rows(date(2025, 1, 1)))
    output, metrics = tmp_path / "recs.jsonl", tmp_path / "metrics.json"

    call_command(
        "evaluate_recommendations",
        orders=str(source),
        k=3,
        output=str(output),
        json=str(metrics),
    )

    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(r["customer_id"] for r in records) == [f"c{i}" for i in range(5)]
    assert all(
        len(r["products"]) == 3 and set(r["products"]) <= {f"P{i}" for i in range(1, 7)} for r in records
    )
    report = json.loads(metrics.read_text())
    assert report["customers"] == 5
    names = [score["name"] for score in report["scores"]]
    assert names == ["Omakase", "popularity", "own most frequent", "own then popular"]
    assert all(0.0 <= score["recall"] <= 1.0 for score in report["scores"])


def test_evaluate_recommendations_reads_online_retail_and_holds_out_the_last_invoice(tmp_path: Path) -> None:
    source = tmp_path / "online_retail.csv.gz"
    header = [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    rows = [
        ["536365", "85123A", "heart", "6", "12/1/2010 8:26", "2.55", "17850.0", "United Kingdom"],
        ["536366", "71053", "lantern", "6", "12/2/2010 8:26", "2.55", "17850.0", "United Kingdom"],
        ["536367", "84406B", "cream", "6", "12/3/2010 8:26", "2.55", "17850.0", "United Kingdom"],
        ["C536368", "85123A", "heart", "-6", "12/4/2010 8:26", "2.55", "17850.0", "United Kingdom"],
        ["536369", "POST", "postage", "1", "12/5/2010 8:26", "18.00", "17850.0", "United Kingdom"],
        ["536370", "85123A", "heart", "2", "12/1/2010 9:00", "2.55", "13047", "United Kingdom"],
        ["536371", "84406B", "cream", "2", "12/2/2010 9:00", "2.55", "13047", "United Kingdom"],
        ["536372", "71053", "lantern", "2", "12/2/2010 9:00", "2.55", "", "United Kingdom"],
        ["536373", "85123A", "heart", "2", "12/6/2010 9:00", "2.55", "12583", "France"],
    ]
    with gzip.open(source, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    output = tmp_path / "recs.jsonl"

    call_command("evaluate_recommendations", orders=str(source), k=2, output=str(output))

    records = {r["customer_id"]: r["products"] for r in map(json.loads, output.read_text().splitlines())}
    assert set(records) == {"17850", "13047"}  # 12583 has one order; guests and credit notes are no orders
    assert all(len(products) == 2 for products in records.values())
