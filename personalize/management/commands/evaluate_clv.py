"""python manage.py evaluate_clv --orders FILE.csv --calibration-end DATE --holdout-end DATE --output FILE

Fit the predicted-value model on the orders up to the calibration end, predict the holdout, and
compare with what happened, beside a naive rate and the textbook BG/NBD with Gamma-Gamma.

Dates are calendar days and both ends are inclusive: calibration is every order up to and including
``--calibration-end``; the holdout is the days after it up to and including ``--holdout-end``
(2011-08-31 and 2011-12-09 give a 100-day holdout). Timestamps with an offset count on their UTC
day; those without one are taken as they are.

Two input formats, told apart by the header (``.gz`` is read compressed): the generic order-line
CSV and UCI Online Retail, read by ``personalize.order_files`` (its docstring says what is dropped:
guest lines, credit notes, which neither count as a purchase nor reduce spend, postage and fees).
An order's value is the sum of quantity times price of its lines.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from numpy.typing import NDArray
from scipy import stats

from personalize.clv import ClvInput, ClvPrediction, clv_fit, clv_input_from_orders, clv_predict
from personalize.order_files import order_lines_read

OUTPUT_HEADER = ["customer_id", "predicted_orders", "churn_risk", "predicted_value"]
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Orders:
    """One row per order: the customer's id and index, the order's day and value."""

    customer_ids: list[str]
    customer_index: NDArray[np.int64]
    day: NDArray[np.float64]
    value: NDArray[np.float64]


@dataclass(frozen=True)
class Score:
    name: str
    mae_orders: float
    mae_median_orders: float
    auc_churn: float
    mae_value: float


class Command(BaseCommand):
    help = "Evaluate the predicted-value model on an order history against a holdout period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", required=True, help="order lines, CSV or CSV.gz")
        parser.add_argument("--calibration-end", required=True, help="last day fitted on, YYYY-MM-DD")
        parser.add_argument("--holdout-end", required=True, help="last day of the holdout, YYYY-MM-DD")
        parser.add_argument("--output", required=True, help="where to write the predictions CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        calibration_end = _date(options["calibration_end"])
        holdout_end = _date(options["holdout_end"])
        if holdout_end <= calibration_end:
            raise CommandError("--holdout-end must come after --calibration-end")
        try:
            orders = orders_read(options["orders"])
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {options['orders']}: {error}") from error
        as_of = float((calibration_end - EPOCH).days + 1)
        holdout_days = float((holdout_end - calibration_end).days)
        scores, seen, ours = clv_evaluate(orders, as_of, holdout_days)
        predictions_write(options["output"], [orders.customer_ids[i] for i in seen], ours)
        self.stdout.write(
            f"{len(seen)} customers seen by {calibration_end}; "
            f"holdout {holdout_days:.0f} days to {holdout_end}"
        )
        self.stdout.write(
            f"{'model':<22}{'MAE orders':>12}{'MAE median':>12}{'AUC churn':>11}{'MAE value':>11}"
        )
        for score in scores:
            self.stdout.write(
                f"{score.name:<22}{score.mae_orders:>12.4f}{score.mae_median_orders:>12.4f}"
                f"{score.auc_churn:>11.4f}{score.mae_value:>11.2f}"
            )


def clv_evaluate(
    orders: Orders, as_of_day: float, holdout_days: float
) -> tuple[list[Score], NDArray[np.int64], ClvPrediction]:
    """Fit on the orders before ``as_of_day``, score the next ``holdout_days``; returns the scores,
    the customers seen by then (indices) and our predictions for them."""
    data = clv_input_from_orders(orders.customer_index, orders.day, orders.value, as_of_day)
    seen = np.flatnonzero(data.age_days > 0)
    in_holdout = (orders.day >= as_of_day) & (orders.day < as_of_day + holdout_days)
    actual = clv_input_from_orders(
        orders.customer_index[in_holdout],
        orders.day[in_holdout],
        orders.value[in_holdout],
        as_of_day + holdout_days,
    )
    actual_orders = _aligned(actual.frequency + (actual.age_days > 0), len(data))[seen]
    actual_value = _aligned(actual.first_value + actual.frequency * actual.mean_repeat_value, len(data))[seen]
    customers = _customers(data, seen)
    ours = clv_predict(clv_fit(customers, holdout_days), customers, holdout_days)
    textbook = clv_predict(clv_fit(customers, holdout_days, backtest=False), customers, holdout_days)
    naive = naive_rate_predict(customers, holdout_days)
    no_order = actual_orders == 0
    scores = [
        Score(
            name,
            mae_orders=float(np.mean(np.abs(prediction.expected_orders - actual_orders))),
            mae_median_orders=float(np.mean(np.abs(prediction.median_orders - actual_orders))),
            auc_churn=auc(prediction.p_no_order, no_order),
            mae_value=float(np.mean(np.abs(prediction.expected_value - actual_value))),
        )
        for name, prediction in [("ours", ours), ("naive rate", naive), ("BG/NBD + Gamma-Gamma", textbook)]
    ]
    return scores, seen, ours


def naive_rate_predict(data: ClvInput, horizon_days: float) -> ClvPrediction:
    """Each customer's repeat rate since their first order, times the horizon; their mean order
    value; a Poisson chance of no order. Its point forecast is its mean."""
    rate = data.frequency / np.maximum(data.age_days, 1.0)
    expected = rate * horizon_days
    order_value = np.where(data.frequency > 0, data.mean_repeat_value, data.first_value)
    return ClvPrediction(
        expected_orders=expected,
        median_orders=expected,
        p_no_order=np.exp(-expected),
        expected_value=expected * order_value,
        p_alive=np.ones(len(expected)),
    )


def auc(score: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """Area under the ROC curve (Mann-Whitney U), ties counted half; NaN with one class only."""
    positives = int(np.count_nonzero(positive))
    negatives = len(positive) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def orders_read(path: str) -> Orders:
    """Orders from either format (module docstring), grouped by order id."""
    lines = order_lines_read(path)
    orders = len(lines.order_ids)
    first_line = np.full(orders, len(lines), dtype=np.int64)
    np.minimum.at(first_line, lines.order, np.arange(len(lines)))
    return Orders(
        customer_ids=lines.customer_ids,
        customer_index=lines.customer[first_line],
        day=np.floor(lines.ordered_at[first_line]),
        value=np.bincount(lines.order, weights=lines.quantity * lines.price, minlength=orders).astype(
            np.float64
        ),
    )


def predictions_write(path: str, customer_ids: list[str], prediction: ClvPrediction) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_HEADER)
        for row in zip(
            customer_ids,
            prediction.expected_orders,
            prediction.p_no_order,
            prediction.expected_value,
            strict=True,
        ):
            writer.writerow([row[0], f"{row[1]:.4f}", f"{row[2]:.4f}", f"{row[3]:.2f}"])


def _date(text: str | date) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from error


def _aligned(values: NDArray[np.float64], length: int) -> NDArray[np.float64]:
    """Pad a per-customer array of the holdout (it ends at the last customer seen there)."""
    out = np.zeros(length)
    count = min(len(values), length)
    out[:count] = values[:count]
    return out


def _customers(data: ClvInput, rows: NDArray[np.int64]) -> ClvInput:
    """The summary and transactions of the given customers only, renumbered 0..len(rows)-1."""
    assert data.transaction_customer is not None
    assert data.transaction_days_ago is not None
    assert data.transaction_value is not None
    renumber = np.full(len(data), -1, dtype=np.int64)
    renumber[rows] = np.arange(len(rows))
    kept = renumber[data.transaction_customer] >= 0
    return ClvInput(
        frequency=data.frequency[rows],
        recency_days=data.recency_days[rows],
        age_days=data.age_days[rows],
        mean_repeat_value=data.mean_repeat_value[rows],
        first_value=data.first_value[rows],
        transaction_customer=renumber[data.transaction_customer[kept]],
        transaction_days_ago=data.transaction_days_ago[kept],
        transaction_value=data.transaction_value[kept],
    )
