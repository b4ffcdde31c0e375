"""The recommender's learnt ranker and coverage allocation (personalize/ranking.py, and their use
in personalize/recommend.py)."""

import numpy as np
import pytest

from personalize.ranking import coverage_allocation, ranker_learn, ranker_probability
from personalize.recommend import KIND_REPEAT, Candidate, EngineParameters, engine_candidates, engine_fit
from tests.personalize.test_recommend import AS_OF, Shop


def test_an_item_no_list_shows_takes_the_last_place_of_a_list_it_nearly_tops() -> None:
    # Three shoppers, two places each; item 9 is everyone's second, items 5 and 6 nobody's.
    items = np.array([[1, 9, 5], [2, 9, 6], [3, 9, 7]])
    probability = np.array([[0.5, 0.30, 0.29], [0.5, 0.30, 0.10], [0.5, 0.30, 0.01]])

    bonus = coverage_allocation(items, probability, 2, allowance=0.02)

    assert bonus.tolist() == [[False, False, True], [False, False, False], [False, False, False]]
    # The list stays its best two by probability plus allowance: 1 and 5, item 9 still shown twice.
    score = probability + 0.02 * bonus
    assert sorted(items[0][np.argsort(-score[0])[:2]].tolist()) == [1, 5]


def test_no_allowance_or_a_list_of_one_changes_nothing() -> None:
    items = np.array([[1, 2, 3], [1, 2, 4]])
    probability = np.array([[0.5, 0.4, 0.39], [0.5, 0.4, 0.39]])

    assert not coverage_allocation(items, probability, 2, allowance=0.0).any()
    assert not coverage_allocation(items[:1], probability[:1], 2, allowance=1.0).any()  # 2 is shown once


def test_an_item_shown_only_in_one_list_is_never_displaced() -> None:
    items = np.array([[1, 8, 5], [1, 9, 6]])
    probability = np.array([[0.5, 0.30, 0.29], [0.5, 0.30, 0.29]])

    bonus = coverage_allocation(items, probability, 2, allowance=0.5)

    assert not bonus.any()  # 8 and 9 are each shown once, 1 is no list's last


def test_the_ranker_weighs_each_row_as_told() -> None:
    # Rows alike but for their label: the probability is the weighted share of positives, as
    # recall weighs an item of a small next order above one of a large order.
    features = np.zeros((400, 2), dtype=np.float32)
    labels = np.arange(400) < 200
    weights = np.where(labels, 1.0, 0.25)

    plain = ranker_learn(features, labels)
    weighted = ranker_learn(features, labels, weights)

    assert ranker_probability(plain, features[:1])[0] == pytest.approx(0.5, abs=0.01)
    assert ranker_probability(weighted, features[:1])[0] == pytest.approx(0.8, abs=0.01)


def alternating_shop(customers: int = 300) -> Shop:
    """Each shopper alternates between two sets of three items, order after order: what they
    bought in their last order is what they will not buy next, which recency-weighted frequency
    (the blend) gets wrong and the ranker can learn from the orders since each item was bought."""
    rng = np.random.default_rng(11)
    shop = Shop()
    for customer in range(customers):
        both = rng.choice(60, size=6, replace=False).tolist()
        sets = (sorted(both[:3]), sorted(both[3:]))
        orders = 5 + customer % 2
        for number in range(orders):
            shop.buy(customer, 40.0 + 60 * number + customer % 5, sets[number % 2])
    return shop


def next_set(customer: int) -> set[int]:
    """The set a shopper of ``alternating_shop`` buys in the order after their last."""
    rng = np.random.default_rng(11)
    for number in range(customer + 1):
        both = rng.choice(60, size=6, replace=False).tolist()
        if number == customer:
            orders = 5 + customer % 2
            return set(both[:3] if orders % 2 == 0 else both[3:])
    raise AssertionError


def hit_share(lists: list[list[Candidate]]) -> float:
    return float(np.mean([len({c.item for c in found} & next_set(s)) / 3 for s, found in enumerate(lists)]))


def test_the_ranker_learns_from_the_shops_own_history_what_comes_next() -> None:
    purchases = alternating_shop().purchases()
    shoppers = np.arange(300)

    ranked = engine_fit(purchases, 300, 60, AS_OF)
    blended = engine_fit(purchases, 300, 60, AS_OF, EngineParameters(ranker=False))

    assert ranked.ranker is not None
    assert blended.ranker is None
    ranked_lists = engine_candidates(ranked, shoppers, 3)
    blended_lists = engine_candidates(blended, shoppers, 3)
    assert hit_share(ranked_lists) > 0.9
    assert hit_share(blended_lists) < 0.6
    # Every item keeps its reason and evidence: they are the shopper's own, from their orders.
    assert all(c.kind == KIND_REPEAT and c.evidence for found in ranked_lists for c in found)


def test_a_shop_too_small_to_learn_keeps_the_blend() -> None:
    engine = engine_fit(alternating_shop(customers=40).purchases(), 40, 60, AS_OF)

    assert engine.ranker is None


def long_tail_shop(customers: int = 400) -> Shop:
    """Everyone buys the same three bestsellers now and then; each shopper also rebuys a few
    items of a long tail of 300, once or twice."""
    rng = np.random.default_rng(12)
    shop = Shop()
    for customer in range(customers):
        tail = (3 + rng.choice(300, size=6, replace=False)).tolist()
        for number in range(4):
            basket = {int(rng.integers(0, 3)), *rng.choice(tail, size=2, replace=False).tolist()}
            shop.buy(customer, 300.0 + 20 * number + customer % 10, sorted(basket))
    return shop


def test_the_lists_show_at_least_as_much_of_the_catalog_as_own_then_popular() -> None:
    shop = long_tail_shop()
    purchases = shop.purchases()
    shoppers = np.arange(400)
    engine = engine_fit(purchases, 400, 303, AS_OF, EngineParameters(tune_k=4))
    assert engine.ranker is not None

    lists = engine_candidates(engine, shoppers, 12)

    listed = {c.item for found in lists for c in found[:4]}
    own_then_popular: set[int] = set()
    for customer in shoppers.tolist():
        mine = purchases.customer == customer
        items, orders = np.unique(purchases.item[mine], return_counts=True)
        latest = [purchases.day[mine][purchases.item[mine] == item].max() for item in items]
        own_then_popular.update(items[np.lexsort((-np.array(latest), -orders))][:4].tolist())
    assert len(listed) >= len(own_then_popular)
    for found in lists:
        assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
