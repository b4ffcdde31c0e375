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

    # One iteration per shopper, over plain Python values (NumPy scalars are slow one by one).
    columns = zip(
        customers.tolist(),
        order_count.tolist(),
        spent_cents.tolist(),
        first_time.tolist(),
        last_time.tolist(),
        gaps.tolist(),
        rounded(gaps, 1),
        recency.tolist(),
        frequency.tolist(),
        monetary.tolist(),
        segments,
        rounded(clv["orders"], 3),
        clv["value"].tolist(),
        rounded(clv["no_order"], 4),
        price_bands,
        last_country,
        strict=True,
    )
    profiles = []
    # The same few places and told facts come up again and again: each region worked out once.
    regions: dict[tuple[str, str, str, tuple[str, str] | None], dict[str, str]] = {}
    addresses = history.addresses
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
        country,
    ) in enumerate(columns):
        facts = told.get(customer_id, NOTHING_TOLD)
        place = (facts.country_code, facts.region_code, country, addresses.get(customer_id))
        region = regions.get(place)
        if region is None:
            region = regions[place] = _region(customer_id, facts, country, addresses)
        shopper_sizes = sizes.get(index, {})
        if orders:
            total = _cents_to_money(spent)
            last_order_at = _from_seconds(last)
            known_gap = not math.isnan(gap)
            next_order_on = (last_order_at + timedelta(days=gap)).date() if known_gap else None
            profiles.append(
                {
                    "customer_shopify_id": customer_id,
                    "as_of": as_of,
                    "order_count": orders,
                    "currency": parameters.currency,
                    "affinities": affinities.get(index, {}),
                    "sizes": _sizes_with_told(shopper_sizes, facts),
                    **region,
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
            profiles.append(
                {
                    "customer_shopify_id": customer_id,
                    "as_of": as_of,
                    "order_count": orders,
                    "currency": parameters.currency,
                    "affinities": affinities.get(index, {}),
                    "sizes": _sizes_with_told(shopper_sizes, facts),
                    **region,
                    **NO_ORDERS,
                }
            )
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
    products, line_product = np.unique(history.line_product[kept], return_inverse=True)
    result: dict[int, dict[str, dict[str, float]]] = {}
    for dimension in AFFINITY_DIMENSIONS:
        names, offsets, product_codes = _trait_codes(history.products, products.tolist(), dimension)
        if not names:
            continue
        # A line repeats once per value of its product: the product's codes are
        # product_codes[offsets[product]:offsets[product + 1]].
        lengths = np.diff(offsets)[line_product]
        ends = np.cumsum(lengths)
        positions = np.arange(int(ends[-1])) + np.repeat(offsets[line_product] - (ends - lengths), lengths)
        codes = product_codes[positions]
        customers = np.repeat(line_customer, lengths)
        weights = np.repeat(weight, lengths)
        keys, inverse = np.unique(customers * len(names) + codes, return_inverse=True)
        sums = np.bincount(inverse, weights=weights)
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
        shares = rounded(sums[chosen] / totals[chosen_customer], 4)
        chosen_names = [names[code] for code in key_code[chosen].tolist()]
        bounds = np.flatnonzero(np.append(_group_starts(chosen_customer), True)).tolist()
        for customer, start, end in zip(
            chosen_customer[bounds[:-1]].tolist(), bounds, bounds[1:], strict=False
        ):
            result.setdefault(customer, {})[dimension] = dict(
                zip(chosen_names[start:end], shares[start:end], strict=True)
            )
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


def _sizes(history: History) -> dict[int, dict[str, dict[str, Any]]]:
    """Per shopper index: the size most kept per product type, with the units kept in it.
    Refunded units were already taken off `line_kept`; a size returned as often as it was kept
    says nothing. Ties go to the size kept last, then to the greater name."""
    products, line_product = np.unique(history.line_product, return_inverse=True)
    product_types = np.array(
        [traits.product_type if traits else "" for traits in map(history.products.get, products.tolist())],
        dtype=str,
    )
    sized = history.line_size != ""
    sized[sized] = product_types[line_product[sized]] != ""
    if not sized.any():
        return {}
    type_names, type_codes = np.unique(product_types[line_product[sized]], return_inverse=True)
    size_names, size_codes = np.unique(history.line_size[sized], return_inverse=True)
    groups = history.line_customer[sized] * type_names.size + type_codes
    keys, inverse = np.unique(groups * size_names.size + size_codes, return_inverse=True)
    quantity = np.zeros(keys.size, dtype=np.int64)
    np.add.at(quantity, inverse, history.line_kept[sized])
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
    result: dict[int, dict[str, dict[str, Any]]] = {}
    for group, size, units in zip(
        key_group[best].tolist(), key_size[best].tolist(), quantity[best].tolist(), strict=True
    ):
        customer, product_type = divmod(group, len(types))
        result.setdefault(customer, {})[types[product_type]] = {
            "size": size_values[size],
            "quantity": units,
            "source": "orders",
        }
    return result


def _sizes_with_told(inferred: dict[str, dict[str, Any]], told: ToldFacts) -> dict[str, dict[str, Any]]:
    if not told.sizes:
        return inferred  # already by product type
    sizes = dict(inferred)
    for product_type, size in told.sizes.items():
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
