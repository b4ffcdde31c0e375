"""Order-line files for the offline evaluations (``evaluate_clv``, ``evaluate_recommendations``).

Two formats, told apart by the header (``.gz`` is read compressed):

- ``customer_id,order_id,ordered_at,product_id,quantity,price`` with ``ordered_at`` in ISO 8601;
- UCI Online Retail (``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,
  Country``), as in ``../shared/data``: an invoice is an order and a StockCode a product. Lines
  without a CustomerID are guest checkouts and cannot be followed, so they are dropped. Credit notes
  (InvoiceNo starting with C) are refunds, not orders. Postage, fees and manual adjustments (the
  StockCodes devstore's import skips too) are not goods.

In both, a line with a quantity or price of zero or less is no purchase (a return or a correction).
Timestamps with an offset are read in UTC; those without one are taken as they are.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

ORDERS_HEADER = ["customer_id", "order_id", "ordered_at", "product_id", "quantity", "price"]
ONLINE_RETAIL_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
# Not goods: postage, fees, manual adjustments, samples (as devstore/seed/online_retail.py skips).
ONLINE_RETAIL_NOT_GOODS = {
    "POST",
    "DOT",
    "M",
    "BANK CHARGES",
    "AMAZONFEE",
    "C2",
    "CRUK",
    "D",
    "S",
    "PADS",
    "B",
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
}
EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 (a day count, zone-free)


@dataclass(frozen=True)
class OrderLines:
    """One row per purchased line, in file order, with the ids behind the indexes.

    Customers, orders and products are numbered in order of first appearance; ``ordered_at`` is in
    days since 1970-01-01, fractional (its floor is the order's calendar day).
    """

    customer_ids: list[str]
    order_ids: list[str]
    product_ids: list[str]
    customer: NDArray[np.int64]
    order: NDArray[np.int64]
    product: NDArray[np.int64]
    ordered_at: NDArray[np.float64]
    quantity: NDArray[np.float64]
    price: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.order)


Line = tuple[str, str, str, str, float, float]


def order_lines_read(path: str) -> OrderLines:
    """The purchased lines of either format (module docstring)."""
    with _open(path) as handle:
        reader = csv.reader(handle)
        header = [name.strip().lstrip("\ufeff") for name in next(reader, [])]
        if header == ORDERS_HEADER:
            lines = _orders_lines(reader)
        elif header == ONLINE_RETAIL_HEADER:
            lines = _online_retail_lines(reader)
        else:
            raise ValueError(f"unknown header {','.join(header)!r}")
        customers: dict[str, int] = {}
        orders: dict[str, int] = {}
        products: dict[str, int] = {}
        columns: tuple[list[int], list[int], list[int], list[float], list[float], list[float]] = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for customer_id, order_id, ordered_at, product_id, quantity, price in lines:
            columns[0].append(customers.setdefault(customer_id, len(customers)))
            columns[1].append(orders.setdefault(order_id, len(orders)))
            columns[2].append(products.setdefault(product_id, len(products)))
            columns[3].append(day_of(ordered_at))
            columns[4].append(quantity)
            columns[5].append(price)
    return OrderLines(
        customer_ids=list(customers),
        order_ids=list(orders),
        product_ids=list(products),
        customer=np.array(columns[0], dtype=np.int64),
        order=np.array(columns[1], dtype=np.int64),
        product=np.array(columns[2], dtype=np.int64),
        ordered_at=np.array(columns[3], dtype=np.float64),
        quantity=np.array(columns[4], dtype=np.float64),
        price=np.array(columns[5], dtype=np.float64),
    )


@lru_cache(maxsize=65536)
def day_of(text: str) -> float:
    """Days since 1970-01-01, fractional (UTC when the timestamp has an offset)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = datetime.strptime(text, "%m/%d/%Y %H:%M")  # noqa: DTZ007 (a day count, zone-free)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return (when - EPOCH).total_seconds() / 86400.0


def _orders_lines(reader: Iterator[list[str]]) -> Iterator[Line]:
    for customer_id, order_id, ordered_at, product_id, quantity, price in reader:
        amounts = _amounts(quantity, price)
        if customer_id.strip() and amounts is not None:
            yield customer_id.strip(), order_id.strip(), ordered_at.strip(), product_id.strip(), *amounts


def _online_retail_lines(reader: Iterator[list[str]]) -> Iterator[Line]:
    for invoice, code, _description, quantity, invoice_date, price, customer_id, _country in reader:
        if not customer_id.strip() or invoice.startswith("C"):
            continue
        upper = code.strip().upper()
        if upper in ONLINE_RETAIL_NOT_GOODS or upper.startswith("GIFT_"):
            continue
        amounts = _amounts(quantity, price)
        if amounts is not None:
            # "17850.0" in some exports of the file, "17850" in others: one customer.
            customer = customer_id.strip().removesuffix(".0")
            yield customer, invoice.strip(), invoice_date.strip(), code.strip(), *amounts


def _amounts(quantity: str, price: str) -> tuple[float, float] | None:
    try:
        amount, unit = float(quantity), float(price)
    except ValueError:
        return None
    if amount <= 0 or unit <= 0:
        return None
    return amount, unit


def _open(path: str) -> TextIO:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace", newline="")
    return Path(path).open(encoding="utf-8", errors="replace", newline="")
