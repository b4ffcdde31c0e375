"""The predicted-value model (personalize/clv.py) and its evaluation command."""

import csv
import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from personalize.clv import (
    KIND_BACKTEST,
    KIND_BGNBD,
    KIND_FALLBACK,
    ClvInput,
    ClvModel,
    clv_fit,
    clv_input_from_orders,
    clv_predict,
)


def bgnbd_simulate(
    customers: int, r: float, alpha: float, a: float, b: float, seed: int
) -> tuple[ClvInput, np.ndarray]:
    """Shoppers drawn from BG/NBD (rate ~ Gamma(r, alpha), dropout ~ Beta(a, b)) watched 120-240
    days; the summary, and each shopper's repeat orders in the 180 days after."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, customers)
    age = rng.uniform(120, 240, customers)
    purchases = rng.poisson(rate * age)
    # The repeat order after which the shopper leaves.
    last = rng.geometric(rng.beta(a, b, customers))
    frequency = np.minimum(purchases, last)
    later = np.minimum(rng.poisson(rate * 180), np.maximum(last - purchases, 0))
    # The x-th of n uniform arrival times on [0, T] is T * Beta(x, n - x + 1).
    recency = np.where(
        frequency > 0,
        age * rng.beta(np.maximum(frequency, 1), np.maximum(purchases - frequency + 1, 1)),
        0.0,
    )
    spend = rng.gamma(4, 10, customers)
    data = ClvInput(frequency.astype(float), recency, age, np.where(frequency > 0, spend, 0.0), spend)
    return data, later.astype(float)


def orders_simulate(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shop's orders over 400 days: customer index, day, value."""
    rng = np.random.default_rng(seed)
    first = rng.uniform(0, 380, customers)
    rate = rng.gamma(0.8, 1 / 40, customers)
    repeats = np.minimum(rng.poisson(rate * (400 - first)), rng.geometric(rng.beta(1, 4, customers)))
    customer = np.repeat(np.arange(customers), repeats + 1)
    starts = np.r_[True, customer[1:] != customer[:-1]]
    span = np.repeat(400 - first, repeats + 1)
    day = np.repeat(first, repeats + 1) + np.where(starts, 0.0, rng.uniform(0, 1, len(customer)) * span)
    return customer, day, rng.gamma(3, 15, len(customer))


def one_shopper(frequency: float, recency: float, age: float, value: float = 30.0) -> ClvInput:
    return ClvInput(
        np.array([frequency]), np.array([recency]), np.array([age]), np.array([value]), np.array([value])
    )


def test_bgnbd_recovers_the_parameters_it_was_simulated_from() -> None:
    data, _ = bgnbd_simulate(6000, r=0.5, alpha=20.0, a=0.8, b=2.5, seed=7)

    model = clv_fit(data, 180)

    assert model.kind == KIND_BGNBD  # no transactions given, so no backtest
    assert model.bgnbd is not None
    r, alpha, a, b = model.bgnbd
    assert r == pytest.approx(0.5, rel=0.15)
    assert alpha == pytest.approx(20.0, rel=0.2)
    assert a == pytest.approx(0.8, rel=0.3)
    assert b == pytest.approx(2.5, rel=0.35)


def test_predicted_orders_track_the_simulated_truth() -> None:
    data, later = bgnbd_simulate(6000, r=0.5, alpha=20.0, a=0.8, b=2.5, seed=8)

    prediction = clv_predict(clv_fit(data, 180), data, 180)

    assert prediction.expected_orders.sum() == pytest.approx(later.sum(), rel=0.1)
    assert np.mean(prediction.p_no_order) == pytest.approx(np.mean(later == 0), abs=0.03)
    heavy = data.frequency >= 3
    assert prediction.expected_orders[heavy].sum() == pytest.approx(later[heavy].sum(), rel=0.15)
    assert np.all((prediction.p_no_order >= 0) & (prediction.p_no_order <= 1))
    assert np.all((prediction.p_alive >= 0) & (prediction.p_alive <= 1))
    assert np.all(np.isfinite(prediction.expected_value))


def test_input_from_orders_merges_same_day_orders_and_counts_from_the_first() -> None:
    # Shopper 0: days 10, 10.7 (same day), 30, 55.2; shopper 1: one order; shopper 2: only after as_of.
    customer = np.array([0, 1, 0, 0, 0, 2])
    day = np.array([10.2, 40.0, 10.7, 30.0, 55.2, 100.0])
    value = np.array([5.0, 8.0, 7.0, 20.0, 40.0, 99.0])

    data = clv_input_from_orders(customer, day, value, as_of_day=60.0)

    assert data.frequency.tolist() == [2.0, 0.0, 0.0]
    assert data.recency_days.tolist() == [45.0, 0.0, 0.0]
    assert data.age_days.tolist() == [50.0, 20.0, 0.0]
    assert data.first_value.tolist() == [12.0, 8.0, 0.0]
    assert data.mean_repeat_value.tolist() == [30.0, 0.0, 0.0]


def test_a_shop_with_few_repeat_buyers_gets_the_pooled_rate() -> None:
    data = ClvInput(
        frequency=np.array([0.0, 2.0, 0.0, 1.0]),
        recency_days=np.array([0.0, 50.0, 0.0, 10.0]),
        age_days=np.array([100.0, 100.0, 50.0, 50.0]),
        mean_repeat_value=np.array([0.0, 20.0, 0.0, 40.0]),
        first_value=np.array([10.0, 10.0, 30.0, 30.0]),
    )

    model = clv_fit(data, 365)
    prediction = clv_predict(model, data, 365)

    assert model.kind == KIND_FALLBACK
    assert model.pooled_order_value == pytest.approx(160 / 7)
    assert prediction.expected_value == pytest.approx(prediction.expected_orders * 160 / 7)
    # One rate and one chance of leaving for the whole shop: the two shoppers with a repeat order
    # are told apart by their silence since it (50 days against 40), the others by nothing
    assert 0 < model.pooled_dropout < 1
    assert prediction.expected_orders[0] == pytest.approx(prediction.expected_orders[2])
    assert prediction.p_alive[3] > prediction.p_alive[1]
    assert prediction.p_no_order[3] < prediction.p_no_order[1]


def test_the_small_shops_model_sees_a_shopper_gone_quiet() -> None:
    # Eight regulars who buy every 10 days; one of them stopped 200 days ago
    frequency = np.array([9.0] * 8)
    recency = np.array([90.0] * 7 + [90.0])
    age = np.array([95.0] * 7 + [290.0])
    data = ClvInput(frequency, recency, age, np.full(8, 20.0), np.full(8, 20.0))

    model = clv_fit(data, 365)
    prediction = clv_predict(model, data, 365)

    assert model.kind == KIND_FALLBACK
    assert prediction.p_no_order[7] > 0.9
    assert prediction.p_no_order[0] < 0.2
    assert prediction.expected_orders[7] < prediction.expected_orders[0] / 10


@pytest.mark.parametrize(
    ("customer", "day", "value"),
    [
        pytest.param([], [], [], id="no orders"),
        pytest.param([0], [3.0], [25.0], id="one customer"),
        pytest.param(list(range(500)), [float(i % 90) for i in range(500)], [10.0] * 500, id="all one-time"),
        pytest.param(
            [i // 3 for i in range(600)],
            [float(i % 3) * 20 for i in range(600)],
            [0.0] * 600,
            id="zero values",
        ),
    ],
)
def test_degenerate_shops_fit_and_predict_without_crashing(
    customer: list[int], day: list[float], value: list[float]
) -> None:
    data = clv_input_from_orders(np.array(customer, dtype=np.int64), np.array(day), np.array(value), 100.0)

    model = clv_fit(data, 365)
    prediction = clv_predict(model, data, 365)

    assert len(prediction.expected_orders) == len(data)
    for values in (prediction.expected_orders, prediction.expected_value, prediction.median_orders):
        assert np.all(np.isfinite(values))
        assert np.all(values >= 0)
    assert np.all((prediction.p_no_order >= 0) & (prediction.p_no_order <= 1))
    if len(data) and not np.any(data.frequency):
        assert model.kind == KIND_FALLBACK
        assert prediction.expected_orders.tolist() == [0.0] * len(data)


def test_a_shop_with_history_gets_the_backtest_correction_and_it_survives_json() -> None:
    customer, day, value = orders_simulate(3000, seed=3)
    data = clv_input_from_orders(customer, day, value, as_of_day=400.0)

    model = clv_fit(data, 90)
    restored = ClvModel.from_json(json.loads(json.dumps(model.to_json())))

    assert model.kind == KIND_BACKTEST
    assert restored == model
    before, after = clv_predict(model, data, 90), clv_predict(restored, data, 90)
    assert after.expected_orders == pytest.approx(before.expected_orders)
    assert after.p_no_order == pytest.approx(before.p_no_order)


def test_a_more_recent_buyer_has_lower_churn_risk_and_more_expected_orders() -> None:
    customer, day, value = orders_simulate(3000, seed=4)
    model = clv_fit(clv_input_from_orders(customer, day, value, as_of_day=400.0), 90)
    recency = np.linspace(0.0, 200.0, 21)
    shoppers = ClvInput(np.full(21, 4.0), recency, np.full(21, 200.0), np.full(21, 30.0), np.full(21, 30.0))

    prediction = clv_predict(model, shoppers, 90)

    assert np.all(np.diff(prediction.p_no_order) <= 1e-12)
    assert np.all(np.diff(prediction.expected_orders) >= -1e-12)
    assert prediction.p_no_order[0] > prediction.p_no_order[-1]


def test_more_spend_per_order_predicts_more_value() -> None:
    data, _ = bgnbd_simulate(3000, r=0.5, alpha=20.0, a=0.8, b=2.5, seed=9)
    model = clv_fit(data, 180)

    cheap = clv_predict(model, one_shopper(3, 100, 150, value=10.0), 180)
    dear = clv_predict(model, one_shopper(3, 100, 150, value=100.0), 180)

    assert dear.expected_value[0] > cheap.expected_value[0]
    assert dear.expected_orders[0] == pytest.approx(cheap.expected_orders[0])


def orders_rows(start: date) -> list[tuple[str, str, str, str, int, str]]:
    """Customer c1 buys every 20 days for 200 days, c2 once early, c3 twice; c4 only in the holdout."""
    rows = []
    for n in range(10):
        rows.append(
            ("c1", f"o1-{n}", (start + timedelta(days=20 * n)).isoformat() + "T10:00:00Z", "p1", 2, "5.00")
        )
    rows.append(("c2", "o2", (start + timedelta(days=3)).isoformat() + "T09:00:00+00:00", "p2", 1, "12.50"))
    rows.append(("c3", "o3-a", (start + timedelta(days=50)).isoformat() + "T11:00:00", "p1", 1, "5.00"))
    rows.append(("c3", "o3-a", (start + timedelta(days=50)).isoformat() + "T11:00:00", "p3", 3, "1.00"))
    rows.append(("c3", "o3-b", (start + timedelta(days=150)).isoformat() + "T11:00:00", "p1", 1, "5.00"))
    rows.append(("c3", "o3-r", (start + timedelta(days=151)).isoformat() + "T11:00:00", "p1", -1, "5.00"))
    rows.append(("c4", "o4", (start + timedelta(days=230)).isoformat() + "T11:00:00", "p1", 1, "5.00"))
    return rows


def output_read(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), {row["customer_id"]: row for row in reader}


def test_evaluate_clv_reads_the_orders_format_and_writes_every_customer_seen(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    with orders.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "order_id", "ordered_at", "product_id", "quantity", "price"])
        writer.writerows(orders_rows(date(2024, 1, 1)))
    output = tmp_path / "predictions.csv"

    call_command(
        "evaluate_clv",
        orders=str(orders),
        calibration_end="2024-07-18",
        holdout_end="2024-10-15",
        output=str(output),
    )

    header, rows = output_read(output)
    assert header == ["customer_id", "predicted_orders", "churn_risk", "predicted_value"]
    assert sorted(rows) == ["c1", "c2", "c3"]  # c4 first bought in the holdout
    for row in rows.values():
        assert float(row["predicted_orders"]) >= 0
        assert 0 <= float(row["churn_risk"]) <= 1
        assert float(row["predicted_value"]) >= 0
    # Three shoppers are far too few to fit BG/NBD: the small shop's model, the same rate for all.
    assert len({row["predicted_orders"] for row in rows.values()}) <= 2


def test_evaluate_clv_reads_online_retail_gzipped_and_skips_guests_and_credit_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "online_retail.csv.gz"
    with gzip.open(orders, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "InvoiceNo",
                "StockCode",
                "Description",
                "Quantity",
                "InvoiceDate",
                "UnitPrice",
                "CustomerID",
                "Country",
            ]
        )
        writer.writerows(
            [
                ["536365", "85123A", "HEART", "6", "2010-12-01 08:26:00", "2.55", "17850", "United Kingdom"],
                ["536365", "POST", "POSTAGE", "1", "2010-12-01 08:26:00", "18.00", "17850", "United Kingdom"],
                ["536370", "22728", "ALARM", "24", "2010-12-05 08:45:00", "3.75", "12583", "France"],
                ["536371", "22728", "ALARM", "2", "2011-01-05 08:45:00", "3.75", "12583", "France"],
                ["C536379", "22728", "ALARM", "-2", "2011-01-06 09:41:00", "3.75", "12583", "France"],
                ["536380", "22728", "ALARM", "2", "2011-01-07 09:41:00", "3.75", "", "United Kingdom"],
                ["536381", "22728", "ALARM", "5", "2011-03-02 10:00:00", "3.75", "17850", "United Kingdom"],
            ]
        )
    output = tmp_path / "predictions.csv"

    call_command(
        "evaluate_clv",
        orders=str(orders),
        calibration_end="2011-01-31",
        holdout_end="2011-03-31",
        output=str(output),
    )

    header, rows = output_read(output)
    assert header == ["customer_id", "predicted_orders", "churn_risk", "predicted_value"]
    assert sorted(rows) == ["12583", "17850"]
    printed = capsys.readouterr().out
    assert "2 customers seen by 2011-01-31; holdout 59 days" in printed
    for model in ("ours", "naive rate", "BG/NBD + Gamma-Gamma"):
        assert model in printed
