"""The profile as a pure function of orders, facts and the shop's parameters, on histories built
by hand whose answers are known."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from personalize.profiles import ProductTraits, ToldFacts, profiles_compute, rounded
from tests.personalize.histories import AS_OF, Line, Purchase, days_before, history_of, parameters

SHIRT = ProductTraits(product_type="Shirts", vendor="Kiso", tags=("cotton",), collections=("summer",))
COAT = ProductTraits(product_type="Coats", vendor="Yuki", tags=("wool", "winter"), collections=("winter",))
PRODUCTS = {1: SHIRT, 2: COAT}


def profile_of(purchases: list[Purchase], **keywords: object) -> dict[str, object]:
    told = keywords.pop("told", {})
    history = history_of(purchases, PRODUCTS, **keywords)  # type: ignore[arg-type]
    (profile,) = profiles_compute(history, told, parameters(), AS_OF)  # type: ignore[arg-type]
    return profile


def test_orders_spend_and_typical_gap_of_a_repeat_buyer() -> None:
    # Given three orders 100, 60 and 20 days ago, the last partly refunded
    profile = profile_of(
        [
            Purchase(7, 100, [Line(1, unit_cents=4_000)]),
            Purchase(7, 60, [Line(1, unit_cents=4_000)]),
            Purchase(7, 20, [Line(1, quantity=2, unit_cents=4_000)], refund_cents=1_000),
        ]
    )

    assert profile["order_count"] == 3
    # 40 + 40 + 80 - 10, net of the refund, to the cent
    assert profile["total_spent"] == Decimal("150.00")
    assert profile["average_order_value"] == Decimal("50.00")
    assert profile["first_order_at"] == days_before(100)
    assert profile["last_order_at"] == days_before(20)
    assert profile["typical_days_between_orders"] == 40.0
    assert profile["expected_next_order_on"] == (days_before(20) + timedelta(days=40)).date()


def test_two_orders_on_one_day_are_one_visit_for_the_typical_gap() -> None:
    profile = profile_of([Purchase(7, 90), Purchase(7, 90), Purchase(7, 30)])

    assert profile["order_count"] == 3
    assert profile["typical_days_between_orders"] == 60.0


@pytest.mark.parametrize(
    ("purchases", "segment"),
    [
        # first order in the last 30 days
        ([Purchase(7, 10)], "new"),
        # one order, two months ago
        ([Purchase(7, 70)], "one_time"),
        # one order, a year ago: more than 3 shop gaps (60 days) and 180 days
        ([Purchase(7, 365)], "lapsed"),
        # ordered every 30 days, silent for 100: more than 1.5 gaps, not yet 3
        ([Purchase(7, 190), Purchase(7, 160), Purchase(7, 130), Purchase(7, 100)], "at_risk"),
        # every 30 days until 200 days ago
        ([Purchase(7, 260), Purchase(7, 230), Purchase(7, 200)], "lapsed"),
        # recent, frequent and big spender: all scores 4 or 5
        ([Purchase(7, days, [Line(1, unit_cents=9_000)]) for days in (150, 110, 75, 40, 5)], "champion"),
        # frequent but modest: frequency 5, spend below the 4th quintile
        ([Purchase(7, days, [Line(1, unit_cents=1_000)]) for days in (150, 110, 75, 40, 15)], "loyal"),
        # two orders, the last a while ago but within their rhythm
        ([Purchase(7, 150), Purchase(7, 40)], "active"),
    ],
)
def test_segments_follow_their_rules(purchases: list[Purchase], segment: str) -> None:
    assert profile_of(purchases)["segment"] == segment


def test_a_shopper_with_no_order_has_no_segment_and_no_prediction() -> None:
    history = history_of([], PRODUCTS, customers=[9])
    (profile,) = profiles_compute(history, {}, parameters(), AS_OF)

    assert profile["customer_shopify_id"] == 9
    assert profile["segment"] == ""
    assert profile["churn_risk"] is None
    assert profile["predicted_value_365d"] == Decimal("0.00")


def test_tastes_fade_with_the_half_life() -> None:
    # Given one shirt bought today and one coat bought one half-life (180 days) ago
    profile = profile_of([Purchase(7, 0, [Line(1)]), Purchase(7, 180, [Line(2)])])

    # Then the shirt weighs twice the coat: shares 2/3 and 1/3, the strongest first
    product_types = profile["affinities"]["product_type"]  # type: ignore[index]
    assert list(product_types) == ["Shirts", "Coats"]
    assert product_types["Shirts"] == pytest.approx(2 / 3, abs=0.01)
    assert product_types["Coats"] == pytest.approx(1 / 3, abs=0.01)
    assert profile["affinities"]["tag"] == {  # type: ignore[index]
        "cotton": pytest.approx(0.5, abs=0.01),
        "wool": pytest.approx(0.25, abs=0.01),
        "winter": pytest.approx(0.25, abs=0.01),
    }


def test_what_was_returned_counts_against_tastes_and_sizes() -> None:
    # Given two coats in L, both returned, and one shirt in M kept
    profile = profile_of(
        [
            Purchase(7, 30, [Line(2, quantity=2, size="L", refunded=2)]),
            Purchase(7, 10, [Line(1, size="M")]),
        ]
    )

    assert profile["affinities"]["product_type"] == {"Shirts": 1.0}  # type: ignore[index]
    assert profile["sizes"] == {"Shirts": {"size": "M", "quantity": 1, "source": "orders"}}


def test_the_size_most_kept_wins_per_product_type() -> None:
    profile = profile_of(
        [
            Purchase(7, 90, [Line(1, quantity=3, size="S", refunded=2)]),
            Purchase(7, 60, [Line(1, size="M")]),
            Purchase(7, 30, [Line(1, size="M")]),
        ]
    )

    assert profile["sizes"]["Shirts"]["size"] == "M"  # type: ignore[index]


def test_told_sizes_and_region_outrank_what_orders_suggest() -> None:
    told = {7: ToldFacts(sizes={"Shirts": "L"}, country_code="AU", region_code="AU-QLD")}
    profile = profile_of([Purchase(7, 10, [Line(1, size="M")], country="JP")], told=told)

    assert profile["sizes"] == {"Shirts": {"size": "L", "source": "told"}}
    assert profile["country_code"] == "AU"
    assert profile["region_code"] == "AU-QLD"
    assert profile["region_source"] == "told"
    assert profile["hemisphere"] == "south"


def test_region_from_the_last_shipping_address_then_the_customer_address() -> None:
    # The latest order shipped to Singapore; the address on file is in Japan
    shipped = profile_of(
        [Purchase(7, 90, country="JP"), Purchase(7, 10, country="SG")], addresses={7: ("JP", "JP-01")}
    )
    assert (shipped["country_code"], shipped["region_code"]) == ("SG", "")
    assert shipped["region_source"] == "last order's shipping address"
    assert shipped["climate_band"] == "tropical"

    # With no shipping country, the address on file, its region included
    on_file = profile_of([Purchase(7, 10)], addresses={7: ("JP", "JP-01")})
    assert (on_file["country_code"], on_file["region_code"]) == ("JP", "JP-01")
    assert on_file["region_source"] == "customer address"
    assert on_file["hemisphere"] == "north"


def test_price_band_against_the_catalog() -> None:
    assert profile_of([Purchase(7, 10, [Line(1, unit_cents=1_500)])])["price_band"] == "budget"
    assert profile_of([Purchase(7, 10, [Line(1, unit_cents=3_000)])])["price_band"] == "mid"
    assert profile_of([Purchase(7, 10, [Line(1, unit_cents=9_000)])])["price_band"] == "premium"


def test_shoppers_computed_together_do_not_leak_into_each_other() -> None:
    purchases = [
        Purchase(5, 40, [Line(2, size="L")]),
        Purchase(7, 20, [Line(1, size="S")]),
        Purchase(5, 10, [Line(2, size="L")]),
    ]
    together = profiles_compute(history_of(purchases, PRODUCTS), {}, parameters(), AS_OF)
    alone = [
        profiles_compute(
            history_of([p for p in purchases if p.customer == c], PRODUCTS), {}, parameters(), AS_OF
        )[0]
        for c in (5, 7)
    ]

    assert together == alone


def test_predictions_are_there_and_sane() -> None:
    profile = profile_of([Purchase(7, 100), Purchase(7, 60), Purchase(7, 20)])

    assert 0 <= profile["churn_risk"] <= 1  # type: ignore[operator]
    assert profile["predicted_orders_365d"] > 0  # type: ignore[operator]
    assert profile["predicted_value_365d"] > 0  # type: ignore[operator]


@pytest.mark.parametrize("digits", [1, 3, 4])
def test_rounding_an_array_rounds_each_value_as_python_does(digits: int) -> None:
    generator = np.random.default_rng(digits)
    values = np.concatenate(
        [
            generator.random(20_000),
            generator.random(5_000) * 1_000,
            # exact ties in decimal, the hard cases: 0.12345, 2.5, ...
            np.round(generator.random(5_000), digits + 1),
            np.arange(0, 1, 10.0 ** -(digits + 1)),
            [0.12345, 0.00005, 2.5, -0.0, 1e300, np.inf, -np.inf],
        ]
    )

    assert [repr(value) for value in rounded(values, digits)] == [
        repr(round(value, digits)) for value in values.tolist()
    ]
