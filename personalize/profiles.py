"""A shopper's profile as a pure function of their orders, what they told us and the shop's
parameters, computed for many shoppers at once with NumPy (no Python loop per order).

The same function serves the profile of one shopper after an order (personalize.refresh) and the
nightly recompute of every shopper of a shop in chunks: the two paths cannot disagree, and a
property test proves they don't on random histories.

What a profile holds, and from what:
- first and last order, order count, total and average spend net of refunds (exact: cents);
- recency, frequency and spend scores (1-5) against the shop's quintiles, and a named segment
  (`segment_rules` below, in words);
- typical days between orders (median gap between order days) and the expected next order;
- predicted orders, spend and churn risk over the next 365 days (personalize.clv);
- affinities for product type, vendor, tag and collection: each kept unit weighs
  0.5 ** (age / half-life), so last month's purchase outweighs last year's;
- sizes per product type from what was kept (refunded units count against), told sizes first;
- price band against the shop's catalog prices;
- region, climate band and hemisphere: told region first, then the last order's shipping country,
  then the customer's address (personalize.climate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from personalize.climate import climate_for
from personalize.clv import ClvModel, clv_input_from_orders, clv_predict

DAY_SECONDS = 86_400.0
HORIZON_DAYS = 365.0
NEW_DAYS = 30  # a first order this recent makes a shopper "new"
AFFINITIES_KEPT = 10  # the strongest values kept per dimension
AFFINITY_DIMENSIONS = ("product_type", "vendor", "tag", "collection")
PRICE_BANDS = ("budget", "mid", "premium")
# With no repeat buyer to learn from, the gap we expect between two orders of a shopper.
DEFAULT_GAP_DAYS = 90.0

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ProductTraits:
    product_type: str
    vendor: str
    tags: tuple[str, ...]
    collections: tuple[str, ...]


@dataclass(frozen=True)
class ShopParameters:
    """What each profile of a shop is measured against; fitted by personalize.refresh on the whole
    shop and stored (ShopProfileModel), so one shopper's profile can be computed alone."""

    half_life_days: float
    # Quintile breakpoints (four each, ascending) of days since the last order, order count and
    # spend in cents, over the shop's buyers.
    recency_breaks: tuple[float, ...]
    frequency_breaks: tuple[float, ...]
    monetary_breaks: tuple[float, ...]
    # Terciles of the catalog's variant prices, in cents.
    price_breaks: tuple[float, ...]
    # The median of repeat buyers' typical gaps, for shoppers with one order.
    typical_gap_days: float
    clv: Mapping[str, Any]
    currency: str

    def to_json(self) -> dict[str, Any]:
        return {
            "half_life_days": self.half_life_days,
            "recency_breaks": list(self.recency_breaks),
            "frequency_breaks": list(self.frequency_breaks),
            "monetary_breaks": list(self.monetary_breaks),
            "price_breaks": list(self.price_breaks),
            "typical_gap_days": self.typical_gap_days,
            "clv": dict(self.clv),
            "currency": self.currency,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShopParameters:
        return cls(
            half_life_days=float(data["half_life_days"]),
            recency_breaks=tuple(data["recency_breaks"]),
            frequency_breaks=tuple(data["frequency_breaks"]),
            monetary_breaks=tuple(data["monetary_breaks"]),
            price_breaks=tuple(data["price_breaks"]),
            typical_gap_days=float(data["typical_gap_days"]),
            clv=data["clv"],
            currency=str(data["currency"]),
        )


@dataclass
class History:
    """The orders and kept lines of a set of shoppers, as aligned arrays (personalize.history
    loads them). `customers` holds the shoppers' Shopify ids, sorted; the `*_customer` arrays are
    indexes into it. Times are seconds since the epoch, money in cents."""

    customers: Ints
    order_customer: Ints
    order_id: Ints
    order_time: Floats
    order_cents: Ints
    order_country: list[str]
    line_customer: Ints
    line_order_id: Ints
    line_time: Floats
    line_product: Ints
    line_kept: Ints
    line_unit_cents: Ints
    line_size: list[str]
    products: Mapping[int, ProductTraits] = field(default_factory=dict)
    # The customer's own address: (country code, province code), by Shopify id.
    addresses: Mapping[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ToldFacts:
    """The current facts a shopper told us that the profile uses (personalize.facts)."""

    sizes: Mapping[str, str] = field(default_factory=dict)
    country_code: str = ""
    region_code: str = ""


def segment_rules() -> list[tuple[str, str]]:
    """The segments, in the order they are decided, each with its rule in words (the admin shows
    them). `gap` is the shopper's own typical gap, or the shop's for a shopper with one order."""
    return [
        ("new", f"first order in the last {NEW_DAYS} days"),
        ("lapsed", "no order for more than 3 gaps (and at least 180 days)"),
        ("at_risk", "two orders or more, none for more than 1.5 gaps (and at least 60 days)"),
        ("one_time", "one order"),
        ("champion", "recency, frequency and spend scores all 4 or 5"),
        ("loyal", "frequency score 4 or 5"),
        ("active", "everyone else who bought"),
    ]


def profiles_compute(
    history: History,
    told: Mapping[int, ToldFacts],
    parameters: ShopParameters,
    as_of: date,
) -> list[dict[str, Any]]:
    """The profile of each shopper of `history` (and of each shopper in `told` with no order), as
    the field values of personalize.models.Profile, in `history.customers` order."""
    customers = history.customers
    count = len(customers)
    as_of_seconds = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp() + DAY_SECONDS
    order_customer = history.order_customer
    order_count = np.bincount(order_customer, minlength=count)
    spent_cents = np.bincount(order_customer, weights=history.order_cents, minlength=count)
    first_time = _group_extreme(order_customer, history.order_time, count, np.minimum)
    last_time = _group_extreme(order_customer, history.order_time, count, np.maximum)
    days_since_last = np.floor((as_of_seconds - last_time) / DAY_SECONDS)
    days_since_first = np.floor((as_of_seconds - first_time) / DAY_SECONDS)
    gaps = _typical_gaps(order_customer, history.order_time, count)

    recency = 5 - np.searchsorted(parameters.recency_breaks, days_since_last, side="left")
    frequency = 1 + np.searchsorted(parameters.frequency_breaks, order_count, side="left")
    monetary = 1 + np.searchsorted(parameters.monetary_breaks, spent_cents, side="left")
    segments = _segments(
        order_count,
        days_since_first=days_since_first,
        days_since_last=days_since_last,
        gaps=gaps,
        recency=recency,
        frequency=frequency,
        monetary=monetary,
        parameters=parameters,
    )

    clv = _clv(history, parameters, as_of_seconds, count)
    affinities = _affinities(history, as_of_seconds, parameters.half_life_days)
    sizes = _sizes(history)
    price_bands = _price_bands(history, parameters.price_breaks)
    last_country = _last_order_country(history)

    profiles = []
    for index, customer_id in enumerate(customers.tolist()):
        orders = int(order_count[index])
        facts = told.get(customer_id, ToldFacts())
        profile: dict[str, Any] = {
            "customer_shopify_id": customer_id,
            "as_of": as_of,
            "order_count": orders,
            "currency": parameters.currency,
            "affinities": affinities.get(index, {}),
            "sizes": _sizes_with_told(sizes.get(index, {}), facts),
            **_region(customer_id, facts, last_country.get(index, ""), history.addresses),
        }
        if orders:
            total = _cents_to_money(spent_cents[index])
            gap = gaps[index]
            last = _from_seconds(float(last_time[index]))
            profile.update(
                first_order_at=_from_seconds(float(first_time[index])),
                last_order_at=last,
                total_spent=total,
                average_order_value=(total / orders).quantize(Decimal("0.01")),
                recency_score=int(recency[index]),
                frequency_score=int(frequency[index]),
                monetary_score=int(monetary[index]),
                segment=segments[index],
                typical_days_between_orders=None if math.isnan(gap) else round(float(gap), 1),
                expected_next_order_on=None
                if math.isnan(gap)
                else (last + timedelta(days=float(gap))).date(),
                predicted_orders_365d=round(float(clv["orders"][index]), 3),
                predicted_value_365d=Decimal(f"{float(clv['value'][index]):.2f}"),
                churn_risk=round(float(clv["no_order"][index]), 4),
                price_band=price_bands.get(index, ""),
            )
        else:
            profile.update(
                first_order_at=None,
                last_order_at=None,
                total_spent=Decimal("0.00"),
                average_order_value=Decimal("0.00"),
                recency_score=0,
                frequency_score=0,
                monetary_score=0,
                segment="",
                typical_days_between_orders=None,
                expected_next_order_on=None,
                predicted_orders_365d=0.0,
                predicted_value_365d=Decimal("0.00"),
                churn_risk=None,
                price_band="",
            )
        profiles.append(profile)
    return profiles


# --- The shop's parameters -----------------------------------------------------------------------


def quintile_breaks(values: npt.ArrayLike) -> tuple[float, ...]:
    """The 20th, 40th, 60th and 80th percentiles (all zeros with no values)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return tuple(float(value) for value in np.percentile(array, [20, 40, 60, 80]))


def tercile_breaks(values: npt.ArrayLike) -> tuple[float, ...]:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return (0.0, 0.0)
    return tuple(float(value) for value in np.percentile(array, [100 / 3, 200 / 3]))


def typical_gaps(order_customer: Ints, order_time: Floats, customers: int) -> Floats:
    """Each shopper's median gap in days between distinct order days (NaN below two)."""
    return _typical_gaps(order_customer, order_time, customers)


# --- Grouped arithmetic --------------------------------------------------------------------------


def _group_extreme(group: Ints, values: Floats, groups: int, ufunc: np.ufunc) -> Floats:
    start = np.inf if ufunc is np.minimum else -np.inf
    result = np.full(groups, start)
    ufunc.at(result, group, values)
    return result


def _group_median(group: Ints, values: Floats, groups: int) -> Floats:
    """The median of `values` within each group (NaN for an empty group)."""
    result = np.full(groups, np.nan)
    if group.size == 0:
        return result
    order = np.lexsort((values, group))
    sorted_values = values[order]
    counts = np.bincount(group, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    present = counts > 0
    low = starts[present] + (counts[present] - 1) // 2
    high = starts[present] + counts[present] // 2
    result[present] = (sorted_values[low] + sorted_values[high]) / 2
    return result


def _typical_gaps(order_customer: Ints, order_time: Floats, customers: int) -> Floats:
    days = np.floor(order_time / DAY_SECONDS).astype(np.int64)
    # One entry per shopper and day: two orders on one day are one visit.
    pairs = np.unique(np.stack([order_customer.astype(np.int64), days], axis=1), axis=0)
    if pairs.shape[0] < 2:
        return np.full(customers, np.nan)
    same_customer = pairs[1:, 0] == pairs[:-1, 0]
    gap_customer = pairs[1:, 0][same_customer]
    gap_days = (pairs[1:, 1] - pairs[:-1, 1])[same_customer].astype(np.float64)
    return _group_median(gap_customer, gap_days, customers)


def _segments(
    order_count: Ints,
    *,
    days_since_first: Floats,
    days_since_last: Floats,
    gaps: Floats,
    recency: Ints,
    frequency: Ints,
    monetary: Ints,
    parameters: ShopParameters,
) -> list[str]:
    gap = np.where(np.isnan(gaps), parameters.typical_gap_days, gaps)
    bought = order_count > 0
    conditions = [
        ~bought,
        days_since_first < NEW_DAYS,
        days_since_last > np.maximum(3 * gap, 180),
        (order_count >= 2) & (days_since_last > np.maximum(1.5 * gap, 60)),
        order_count == 1,
        (recency >= 4) & (frequency >= 4) & (monetary >= 4),
        frequency >= 4,
    ]
    choices = ["", "new", "lapsed", "at_risk", "one_time", "champion", "loyal"]
    return [str(value) for value in np.select(conditions, choices, default="active").tolist()]


def _clv(
    history: History, parameters: ShopParameters, as_of_seconds: float, customers: int
) -> dict[str, Floats]:
    """Predicted orders, spend and chance of no order in the next 365 days, per shopper index
    (zeros for shoppers with no order, whom the model does not describe)."""
    result = {name: np.zeros(customers) for name in ("orders", "value", "no_order")}
    if history.order_customer.size == 0:
        return result
    buyers, compact = np.unique(history.order_customer, return_inverse=True)
    prediction = clv_predict(
        ClvModel.from_json(dict(parameters.clv)),
        clv_input_from_orders(
            compact,
            history.order_time / DAY_SECONDS,
            history.order_cents / 100.0,
            as_of_seconds / DAY_SECONDS,
        ),
        HORIZON_DAYS,
    )
    result["orders"][buyers] = prediction.expected_orders
    result["value"][buyers] = prediction.expected_value
    result["no_order"][buyers] = prediction.p_no_order
    return result


def _affinities(
    history: History, as_of_seconds: float, half_life_days: float
) -> dict[int, dict[str, dict[str, float]]]:
    """Per shopper index, per dimension, the shares of faded weight of each value kept."""
    kept = history.line_kept > 0
    if not kept.any():
        return {}
    age_days = np.maximum(0.0, (as_of_seconds - history.line_time[kept]) / DAY_SECONDS)
    weight = history.line_kept[kept] * np.power(0.5, age_days / max(half_life_days, 1.0))
    line_customer = history.line_customer[kept]
    line_product = history.line_product[kept]
    result: dict[int, dict[str, dict[str, float]]] = {}
    for dimension in AFFINITY_DIMENSIONS:
        # The product's values of this dimension, as codes; a line repeats once per value.
        vocabulary: dict[str, int] = {}
        product_codes: dict[int, list[int]] = {}
        for product_id in np.unique(line_product).tolist():
            traits = history.products.get(product_id)
            values = _trait_values(traits, dimension) if traits else ()
            product_codes[product_id] = [vocabulary.setdefault(value, len(vocabulary)) for value in values]
        if not vocabulary:
            continue
        lengths = np.array([len(product_codes[product]) for product in line_product.tolist()], dtype=np.int64)
        codes = np.fromiter(
            (code for product in line_product.tolist() for code in product_codes[product]),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        customers = np.repeat(line_customer, lengths)
        weights = np.repeat(weight, lengths)
        keys, inverse = np.unique(customers * len(vocabulary) + codes, return_inverse=True)
        sums = np.bincount(inverse, weights=weights)
        key_customer = keys // len(vocabulary)
        key_code = keys % len(vocabulary)
        totals = np.bincount(key_customer, weights=sums)
        names = list(vocabulary)
        # Strongest first within each shopper; ties by name, so the order is stable.
        order = np.lexsort((np.array(names, dtype=object)[key_code], -sums, key_customer))
        for position in order.tolist():
            customer = int(key_customer[position])
            shares = result.setdefault(customer, {}).setdefault(dimension, {})
            if len(shares) < AFFINITIES_KEPT:
                shares[names[int(key_code[position])]] = round(float(sums[position] / totals[customer]), 4)
    return result


def _trait_values(traits: ProductTraits, dimension: str) -> tuple[str, ...]:
    if dimension == "product_type":
        return (traits.product_type,) if traits.product_type else ()
    if dimension == "vendor":
        return (traits.vendor,) if traits.vendor else ()
    if dimension == "tag":
        return traits.tags
    return traits.collections


def _sizes(history: History) -> dict[int, dict[str, dict[str, Any]]]:
    """Per shopper index: the size most kept per product type, with the units kept in it.
    Refunded units were already taken off `line_kept`; a size returned as often as it was kept
    says nothing."""
    totals: dict[tuple[int, str, str], int] = {}
    latest: dict[tuple[int, str, str], float] = {}
    sized = [index for index, size in enumerate(history.line_size) if size]
    for index in sized:
        traits = history.products.get(int(history.line_product[index]))
        if traits is None or not traits.product_type:
            continue
        key = (int(history.line_customer[index]), traits.product_type, history.line_size[index])
        totals[key] = totals.get(key, 0) + int(history.line_kept[index])
        latest[key] = max(latest.get(key, 0.0), float(history.line_time[index]))
    best: dict[tuple[int, str], tuple[int, float, str]] = {}
    for (customer, product_type, size), quantity in totals.items():
        if quantity <= 0:
            continue
        candidate = (quantity, latest[(customer, product_type, size)], size)
        if candidate > best.get((customer, product_type), (0, 0.0, "")):
            best[(customer, product_type)] = candidate
    result: dict[int, dict[str, dict[str, Any]]] = {}
    for (customer, product_type), (quantity, _, size) in sorted(best.items()):
        result.setdefault(customer, {})[product_type] = {
            "size": size,
            "quantity": quantity,
            "source": "orders",
        }
    return result


def _sizes_with_told(inferred: dict[str, dict[str, Any]], told: ToldFacts) -> dict[str, dict[str, Any]]:
    sizes = dict(inferred)
    for product_type, size in told.sizes.items():
        sizes[product_type] = {"size": size, "source": "told"}
    return dict(sorted(sizes.items()))


def _price_bands(history: History, breaks: tuple[float, ...]) -> dict[int, str]:
    kept = history.line_kept > 0
    if not kept.any():
        return {}
    customers = int(history.customers.size)
    medians = _group_median(
        history.line_customer[kept], history.line_unit_cents[kept].astype(np.float64), customers
    )
    bands = np.searchsorted(breaks, medians, side="right")
    return {index: PRICE_BANDS[int(bands[index])] for index in np.flatnonzero(~np.isnan(medians)).tolist()}


def _last_order_country(history: History) -> dict[int, str]:
    """Per shopper index, the shipping country of their latest order that had one."""
    result: dict[int, str] = {}
    for index in np.argsort(history.order_time, kind="stable").tolist():
        country = history.order_country[index]
        if country:
            result[int(history.order_customer[index])] = country
    return result


def _region(
    customer_id: int, told: ToldFacts, last_order_country: str, addresses: Mapping[int, tuple[str, str]]
) -> dict[str, str]:
    address_country, address_region = addresses.get(customer_id, ("", ""))
    if told.country_code:
        country, region, source = told.country_code, told.region_code, "told"
    elif last_order_country:
        # The region only when the address is in the same country (orders keep the country).
        region = address_region if address_country == last_order_country else ""
        country, source = last_order_country, "last order's shipping address"
    elif address_country:
        country, region, source = address_country, address_region, "customer address"
    else:
        return {
            "country_code": "",
            "region_code": "",
            "region_source": "",
            "climate_band": "",
            "hemisphere": "",
        }
    climate = climate_for(country, region)
    return {
        "country_code": country,
        "region_code": region,
        "region_source": source,
        "climate_band": climate.band if climate else "",
        "hemisphere": climate.hemisphere if climate else "",
    }


def _cents_to_money(cents: float) -> Decimal:
    return (Decimal(round(cents)) / 100).quantize(Decimal("0.01"))


def _from_seconds(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
