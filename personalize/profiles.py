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

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from personalize.climate import climate_for
from personalize.clv import ClvModel, clv_expected, clv_input_from_orders

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
Texts = npt.NDArray[np.str_]
CENT = Decimal("0.01")


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
    order_country: Texts
    line_customer: Ints
    line_order_id: Ints
    line_time: Floats
    line_product: Ints
    line_kept: Ints
    line_unit_cents: Ints
    line_size: Texts
    products: Mapping[int, ProductTraits] = field(default_factory=dict)
    # The customer's own address: (country code, province code), by Shopify id.
    addresses: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    def shoppers(self, start: int, end: int) -> History:
        """The history of shoppers `start` to `end` (indexes into `customers`, `end` excluded)."""
        orders = (self.order_customer >= start) & (self.order_customer < end)
        lines = (self.line_customer >= start) & (self.line_customer < end)
        return History(
            customers=self.customers[start:end],
            order_customer=self.order_customer[orders] - start,
            order_id=self.order_id[orders],
            order_time=self.order_time[orders],
            order_cents=self.order_cents[orders],
            order_country=self.order_country[orders],
            line_customer=self.line_customer[lines] - start,
            line_order_id=self.line_order_id[lines],
            line_time=self.line_time[lines],
            line_product=self.line_product[lines],
            line_kept=self.line_kept[lines],
            line_unit_cents=self.line_unit_cents[lines],
            line_size=self.line_size[lines],
            products=self.products,
            addresses=self.addresses,
        )


@dataclass(frozen=True)
class ToldFacts:
    """The current facts a shopper told us that the profile uses (personalize.facts)."""

    sizes: Mapping[str, str] = field(default_factory=dict)
    country_code: str = ""
    region_code: str = ""


NOTHING_TOLD = ToldFacts()


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


@dataclass(frozen=True)
class Affinities:
    """The strongest values of each dimension per shopper, one entry per (shopper, dimension,
    value): by shopper, then dimension (in `AFFINITY_DIMENSIONS` order), strongest first."""

    shopper: Ints  # an index into the shoppers
    dimension: Ints  # an index into AFFINITY_DIMENSIONS
    name: list[str]
    share: list[float]


@dataclass(frozen=True)
class KeptSizes:
    """The size most kept per product type, one entry per (shopper, product type): by shopper,
    then product type."""

    shopper: Ints  # an index into the shoppers
    product_type: list[str]
    size: list[str]
    quantity: list[int]


@dataclass(frozen=True)
class ProfileColumns:
    """The profiles of a set of shoppers, field by field: one array or list per field, aligned by
    shopper (`customers`, ascending), as `profiles_compute` computes them. Storing many profiles
    reads these columns whole (personalize.profile_text); one shopper's are read as a dict
    (`profile_dicts`), and both say the same."""

    as_of: date
    currency: str
    customers: Ints
    order_count: Ints
    spent_cents: Ints  # net of refunds
    first_time: Floats  # seconds since the epoch (inf with no order)
    last_time: Floats
    gaps: Floats  # each shopper's median gap in days (NaN below two order days)
    typical_gaps: list[float]  # the same, rounded to a tenth of a day
    recency: Ints  # the scores, 0 with no order
    frequency: Ints
    monetary: Ints
    segments: list[str]
    predicted_orders: list[float]  # rounded to three decimals
    predicted_value: Floats  # in currency units, unrounded
    churn_risk: list[float]  # rounded to four decimals
    price_bands: list[str]
    regions: list[Mapping[str, str]]  # the region fields (shared between shoppers of one place)
    affinities: Affinities
    sizes: KeptSizes
    # Sizes the shopper told, by shopper index: they replace what orders suggest per product type.
    told_sizes: Mapping[int, Mapping[str, str]]

    def __len__(self) -> int:
        return int(self.customers.size)


def profiles_compute(
    history: History,
    told: Mapping[int, ToldFacts],
    parameters: ShopParameters,
    as_of: date,
) -> list[dict[str, Any]]:
    """The profile of each shopper of `history` (and of each shopper in `told` with no order), as
    the field values of personalize.models.Profile, in `history.customers` order."""
    return profile_dicts(profiles_columns(history, told, parameters, as_of))


def profiles_columns(
    history: History,
    told: Mapping[int, ToldFacts],
    parameters: ShopParameters,
    as_of: date,
) -> ProfileColumns:
    """`profiles_compute`, field by field: the same profiles as columns, with no dict, Decimal or
    datetime per shopper (storing a whole shop's profiles reads them so)."""
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
    bought = order_count > 0
    customer_ids = customers.tolist()
    return ProfileColumns(
        as_of=as_of,
        currency=parameters.currency,
        customers=customers,
        order_count=order_count,
        # Whole cents: a sum of integers, exact in a float
        spent_cents=np.rint(spent_cents).astype(np.int64),
        first_time=first_time,
        last_time=last_time,
        gaps=gaps,
        typical_gaps=rounded(gaps, 1),
        recency=np.where(bought, recency, 0),
        frequency=np.where(bought, frequency, 0),
        monetary=np.where(bought, monetary, 0),
        segments=segments,
        predicted_orders=rounded(clv["orders"], 3),
        predicted_value=clv["value"],
        churn_risk=rounded(clv["no_order"], 4),
        price_bands=_price_bands(history, parameters.price_breaks),
        regions=_regions(customer_ids, told, _last_order_country(history), history.addresses),
        affinities=_affinities(history, as_of_seconds, parameters.half_life_days),
        sizes=_sizes(history),
        told_sizes={
            index: told[customer_id].sizes
            for index, customer_id in enumerate(customer_ids)
            if customer_id in told and told[customer_id].sizes
        },
    )


def profile_dicts(columns: ProfileColumns) -> list[dict[str, Any]]:
    """The profiles of `columns`, one dict of field values each (as `profiles_compute` answers)."""
    affinities = _affinity_dicts(columns.affinities)
    sizes = _size_dicts(columns.sizes)
    fields = zip(
        columns.customers.tolist(),
        columns.order_count.tolist(),
        columns.spent_cents.tolist(),
        columns.first_time.tolist(),
        columns.last_time.tolist(),
        columns.gaps.tolist(),
        columns.typical_gaps,
        columns.recency.tolist(),
        columns.frequency.tolist(),
        columns.monetary.tolist(),
        columns.segments,
        columns.predicted_orders,
        columns.predicted_value.tolist(),
        columns.churn_risk,
        columns.price_bands,
        columns.regions,
        strict=True,
    )
    profiles = []
    for index, (
        customer_id,
        orders,
        spent,
        first,
        last,
        gap,
        typical_gap,
        recency_score,
        frequency_score,
        monetary_score,
        segment,
        predicted_orders,
        predicted_value,
        churn_risk,
        band,
        region,
    ) in enumerate(fields):
        common = {
            "customer_shopify_id": customer_id,
            "as_of": columns.as_of,
            "order_count": orders,
            "currency": columns.currency,
            "affinities": affinities.get(index, {}),
            "sizes": sizes_with_told(sizes.get(index, {}), columns.told_sizes.get(index, {})),
            **region,
        }
        if orders:
            total = _cents_to_money(spent)
            last_order_at = _from_seconds(last)
            known_gap = not math.isnan(gap)
            next_order_on = (last_order_at + timedelta(days=gap)).date() if known_gap else None
            profiles.append(
                {
                    **common,
                    "first_order_at": _from_seconds(first),
                    "last_order_at": last_order_at,
                    "total_spent": total,
                    "average_order_value": (total / orders).quantize(CENT),
                    "recency_score": recency_score,
                    "frequency_score": frequency_score,
                    "monetary_score": monetary_score,
                    "segment": segment,
                    "typical_days_between_orders": typical_gap if known_gap else None,
                    "expected_next_order_on": next_order_on,
                    "predicted_orders_365d": predicted_orders,
                    "predicted_value_365d": Decimal(f"{predicted_value:.2f}"),
                    "churn_risk": churn_risk,
                    "price_band": band,
                }
            )
        else:
            profiles.append({**common, **NO_ORDERS})
    return profiles


# What a profile says of a shopper with no order.
NO_ORDERS: Mapping[str, Any] = {
    "first_order_at": None,
    "last_order_at": None,
    "total_spent": Decimal("0.00"),
    "average_order_value": Decimal("0.00"),
    "recency_score": 0,
    "frequency_score": 0,
    "monetary_score": 0,
    "segment": "",
    "typical_days_between_orders": None,
    "expected_next_order_on": None,
    "predicted_orders_365d": 0.0,
    "predicted_value_365d": Decimal("0.00"),
    "churn_risk": None,
    "price_band": "",
}


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


def rounded(values: Floats, digits: int) -> list[float]:
    """`round(value, digits)` of each value, as Python rounds (the decimal nearest the exact binary
    value, ties to even), computed for the whole array: scaling, rounding to an integer and
    dividing back give the same float except where the scaled value is within a few units in the
    last place of a tie (or huge, or not finite), and those few Python rounds itself."""
    scale = 10.0**digits
    scaled = values * scale
    result = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):
        fraction = np.abs(scaled - np.floor(scaled) - 0.5)
        unsure = (
            ~np.isfinite(scaled) | (np.abs(scaled) >= 2.0**52) | (fraction <= 4 * np.spacing(np.abs(scaled)))
        )
    exact = result.tolist()
    for index in np.flatnonzero(unsure).tolist():
        exact[index] = round(float(values[index]), digits)
    return exact


# --- Grouped arithmetic --------------------------------------------------------------------------


def distinct(values: Ints) -> Ints:
    """The distinct values, ascending: np.unique, by sorting (NumPy 2.4's np.unique without an
    inverse takes a hashing path twenty times slower on a million integers)."""
    ordered = np.sort(values)
    return ordered[_group_starts(ordered)]


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
    if days.size < 2:
        return np.full(customers, np.nan)
    # One entry per shopper and day (two orders on one day are one visit), as one integer key
    # ordered by shopper, then day.
    span = int(days.max() - days.min()) + 1
    keys = distinct(order_customer.astype(np.int64) * span + (days - days.min()))
    pair_customer, pair_day = keys // span, keys % span
    same_customer = pair_customer[1:] == pair_customer[:-1]
    gap_customer = pair_customer[1:][same_customer]
    gap_days = (pair_day[1:] - pair_day[:-1])[same_customer].astype(np.float64)
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
    prediction = clv_expected(
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


def _affinities(history: History, as_of_seconds: float, half_life_days: float) -> Affinities:
    """Per shopper index, per dimension, the shares of faded weight of each value kept."""
    kept = history.line_kept > 0
    if not kept.any():
        return Affinities(
            shopper=np.zeros(0, dtype=np.int64), dimension=np.zeros(0, dtype=np.int64), name=[], share=[]
        )
    age_days = np.maximum(0.0, (as_of_seconds - history.line_time[kept]) / DAY_SECONDS)
    weight = history.line_kept[kept] * np.power(0.5, age_days / max(half_life_days, 1.0))
    line_customer = history.line_customer[kept]
    products, line_product = np.unique(history.line_product[kept], return_inverse=True)
    shoppers: list[Ints] = []
    dimensions: list[Ints] = []
    names_chosen: list[str] = []
    shares: list[float] = []
    for dimension_index, dimension in enumerate(AFFINITY_DIMENSIONS):
        names, offsets, product_codes = _trait_codes(history.products, products.tolist(), dimension)
        if not names:
            continue
        # A line repeats once per value of its product: the product's codes are
        # product_codes[offsets[product]:offsets[product + 1]].
        lengths = np.diff(offsets)[line_product]
        ends = np.cumsum(lengths)
        positions = np.arange(int(ends[-1])) + np.repeat(offsets[line_product] - (ends - lengths), lengths)
        keys, sums = _sums_by_key(
            np.repeat(line_customer, lengths) * len(names) + product_codes[positions],
            np.repeat(weight, lengths),
            int(history.customers.size) * len(names),
        )
        key_customer = keys // len(names)
        key_code = keys % len(names)
        totals = np.bincount(key_customer, weights=sums)
        # Strongest first within each shopper; ties by name, so the order is stable.
        name_rank = np.argsort(np.array(names, dtype=object), kind="stable").argsort()
        order = np.lexsort((name_rank[key_code], -sums, key_customer))
        sorted_customer = key_customer[order]
        starts = _group_starts(sorted_customer)
        rank = np.arange(order.size) - np.maximum.accumulate(np.where(starts, np.arange(order.size), 0))
        chosen = order[rank < AFFINITIES_KEPT]
        chosen_customer = key_customer[chosen]
        shoppers.append(chosen_customer)
        dimensions.append(np.full(chosen.size, dimension_index, dtype=np.int64))
        names_chosen.extend([names[code] for code in key_code[chosen].tolist()])
        shares.extend(rounded(sums[chosen] / totals[chosen_customer], 4))
    if not shoppers:
        return Affinities(
            shopper=np.zeros(0, dtype=np.int64), dimension=np.zeros(0, dtype=np.int64), name=[], share=[]
        )
    # By shopper; a stable sort keeps the dimensions in their order, and each one's ranks.
    shopper = np.concatenate(shoppers)
    by_shopper = np.argsort(shopper, kind="stable")
    picked = by_shopper.tolist()
    return Affinities(
        shopper=shopper[by_shopper],
        dimension=np.concatenate(dimensions)[by_shopper],
        name=[names_chosen[index] for index in picked],
        share=[shares[index] for index in picked],
    )


# A dense table of sums, one slot per possible key, is used while it has at most this many slots
# per value summed; past that (a large vocabulary of tags), the keys present are sorted instead.
DENSE_SLOTS_PER_VALUE = 2


def _sums_by_key(keys: Ints, weights: Floats, key_space: int) -> tuple[Ints, Floats]:
    """The distinct keys (ascending, each in 0 .. key_space - 1) and the sum of the weights of
    each, added in the order given: the same floats whichever way they are found."""
    if key_space <= DENSE_SLOTS_PER_VALUE * keys.size:
        present = np.flatnonzero(np.bincount(keys, minlength=key_space)).astype(np.int64)
        return present, np.bincount(keys, weights=weights, minlength=key_space)[present].astype(np.float64)
    distinct_keys, inverse = np.unique(keys, return_inverse=True)
    return distinct_keys, np.bincount(inverse.reshape(-1), weights=weights).astype(np.float64)


def _affinity_dicts(affinities: Affinities) -> dict[int, dict[str, dict[str, float]]]:
    """Per shopper index, per dimension, each value's share (as a profile holds them)."""
    result: dict[int, dict[str, dict[str, float]]] = {}
    for shopper, dimension, name, share in zip(
        affinities.shopper.tolist(),
        affinities.dimension.tolist(),
        affinities.name,
        affinities.share,
        strict=True,
    ):
        result.setdefault(shopper, {}).setdefault(AFFINITY_DIMENSIONS[dimension], {})[name] = share
    return result


def _group_starts(sorted_groups: Ints) -> npt.NDArray[np.bool_]:
    """Where each run of equal values of a sorted array begins."""
    starts = np.ones(sorted_groups.size, dtype=bool)
    starts[1:] = sorted_groups[1:] != sorted_groups[:-1]
    return starts


def _trait_codes(
    products: Mapping[int, ProductTraits], product_ids: list[int], dimension: str
) -> tuple[list[str], Ints, Ints]:
    """The values of `dimension` of each product, as codes into a vocabulary (in order of first
    appearance), CSR-style: product i's codes are codes[offsets[i]:offsets[i + 1]]."""
    vocabulary: dict[str, int] = {}
    codes: list[int] = []
    offsets = [0]
    for product_id in product_ids:
        traits = products.get(product_id)
        codes.extend(
            vocabulary.setdefault(value, len(vocabulary))
            for value in (_trait_values(traits, dimension) if traits else ())
        )
        offsets.append(len(codes))
    return list(vocabulary), np.array(offsets, dtype=np.int64), np.array(codes, dtype=np.int64)


def _trait_values(traits: ProductTraits, dimension: str) -> tuple[str, ...]:
    if dimension == "product_type":
        return (traits.product_type,) if traits.product_type else ()
    if dimension == "vendor":
        return (traits.vendor,) if traits.vendor else ()
    if dimension == "tag":
        return traits.tags
    return traits.collections


def _sizes(history: History) -> KeptSizes:
    """Per shopper index: the size most kept per product type, with the units kept in it.
    Refunded units were already taken off `line_kept`; a size returned as often as it was kept
    says nothing. Ties go to the size kept last, then to the greater name."""
    products, line_product = np.unique(history.line_product, return_inverse=True)
    product_types = np.array(
        [traits.product_type if traits else "" for traits in map(history.products.get, products.tolist())],
        dtype=str,
    )
    # Product types as codes in the order of their names, found per product (not per line).
    type_names, product_type_codes = np.unique(product_types, return_inverse=True)
    line_type_codes = product_type_codes.reshape(-1)[line_product]
    sized = history.line_size != ""
    sized[sized] = product_types[line_product[sized]] != ""
    if not sized.any():
        return KeptSizes(shopper=np.zeros(0, dtype=np.int64), product_type=[], size=[], quantity=[])
    type_codes = line_type_codes[sized]
    size_names, size_codes = np.unique(history.line_size[sized], return_inverse=True)
    groups = history.line_customer[sized] * type_names.size + type_codes
    keys, inverse = np.unique(groups * size_names.size + size_codes, return_inverse=True)
    # Sums of whole units: exact in floats
    quantity = np.rint(np.bincount(inverse.reshape(-1), weights=history.line_kept[sized])).astype(np.int64)
    latest = np.zeros(keys.size)
    np.maximum.at(latest, inverse, history.line_time[sized])
    key_group, key_size = keys // size_names.size, keys % size_names.size
    candidates = np.flatnonzero(quantity > 0)
    # Within each (shopper, product type), ascending by units, then time, then size name (the
    # codes follow the names' order): the last is the best.
    order = candidates[
        np.lexsort((key_size[candidates], latest[candidates], quantity[candidates], key_group[candidates]))
    ]
    best = order[np.append(_group_starts(key_group[order])[1:], True)] if order.size else order
    types, size_values = type_names.tolist(), size_names.tolist()
    customer, product_type = np.divmod(key_group[best], len(types))
    return KeptSizes(
        shopper=customer,
        product_type=[types[code] for code in product_type.tolist()],
        size=[size_values[code] for code in key_size[best].tolist()],
        quantity=quantity[best].tolist(),
    )


def _size_dicts(sizes: KeptSizes) -> dict[int, dict[str, dict[str, Any]]]:
    """Per shopper index, per product type, the size kept most (as a profile holds them)."""
    result: dict[int, dict[str, dict[str, Any]]] = {}
    for shopper, product_type, size, quantity in zip(
        sizes.shopper.tolist(), sizes.product_type, sizes.size, sizes.quantity, strict=True
    ):
        result.setdefault(shopper, {})[product_type] = {
            "size": size,
            "quantity": quantity,
            "source": "orders",
        }
    return result


def sizes_with_told(
    inferred: dict[str, dict[str, Any]], told: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The sizes of a profile: what orders suggest per product type, unless the shopper told."""
    if not told:
        return inferred  # already by product type
    sizes = dict(inferred)
    for product_type, size in told.items():
        sizes[product_type] = {"size": size, "source": "told"}
    return dict(sorted(sizes.items()))


def _price_bands(history: History, breaks: tuple[float, ...]) -> list[str]:
    """Per shopper index, the band of the median unit price kept ("" with nothing kept)."""
    customers = int(history.customers.size)
    kept = history.line_kept > 0
    medians = _group_median(
        history.line_customer[kept], history.line_unit_cents[kept].astype(np.float64), customers
    )
    bands = np.array(PRICE_BANDS, dtype=object)[np.searchsorted(breaks, medians, side="right")]
    return list(np.where(np.isnan(medians), "", bands).tolist())


def _last_order_country(history: History) -> list[str]:
    """Per shopper index, the shipping country of their latest order that had one (of two at the
    same time, the later row)."""
    customers = int(history.customers.size)
    with_country = np.flatnonzero(history.order_country != "")
    if with_country.size == 0:
        return [""] * customers
    # lexsort is stable: equal times keep the rows' order.
    order = with_country[np.lexsort((history.order_time[with_country], history.order_customer[with_country]))]
    last = np.append(_group_starts(history.order_customer[order])[1:], True)
    result = np.full(customers, "", dtype=object)
    result[history.order_customer[order[last]]] = history.order_country[order[last]].tolist()
    return list(result.tolist())


def _regions(
    customer_ids: list[int],
    told: Mapping[int, ToldFacts],
    last_order_countries: list[str],
    addresses: Mapping[int, tuple[str, str]],
) -> list[Mapping[str, str]]:
    """Per shopper, the region fields. The same few places and told facts come up again and again:
    each region is worked out once, and shoppers of one place share it."""
    facts = [told.get(customer_id, NOTHING_TOLD) for customer_id in customer_ids]
    places = list(
        zip(
            [told_facts.country_code for told_facts in facts],
            [told_facts.region_code for told_facts in facts],
            last_order_countries,
            map(addresses.get, customer_ids),
            strict=True,
        )
    )
    regions = {place: _region(*place) for place in dict.fromkeys(places)}
    return [regions[place] for place in places]


def _region(
    told_country: str, told_region: str, last_order_country: str, address: tuple[str, str] | None
) -> dict[str, str]:
    address_country, address_region = address or ("", "")
    if told_country:
        country, region, source = told_country, told_region, "told"
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
    band, hemisphere = _climate(country, region)
    return {
        "country_code": country,
        "region_code": region,
        "region_source": source,
        "climate_band": band,
        "hemisphere": hemisphere,
    }


@functools.lru_cache(maxsize=4_096)
def _climate(country: str, region: str) -> tuple[str, str]:
    """The climate band and hemisphere of a place (the same few places come up per shopper)."""
    climate = climate_for(country, region)
    return (climate.band, climate.hemisphere) if climate else ("", "")


def _cents_to_money(cents: float) -> Decimal:
    return (Decimal(round(cents)) / 100).quantize(CENT)


def _from_seconds(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
