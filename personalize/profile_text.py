"""Profiles as the text PostgreSQL's COPY reads, built a column at a time from
personalize.profiles.ProfileColumns.

Why: storing a whole shop's profiles one dict at a time (a Decimal, a datetime and a JSON dump per
value, then the driver dumping each) cost more than computing them. Here each column becomes its
text in bulk: NumPy for times, dates and money, each distinct number or name formatted once, and
each shopper's JSON joined from pieces. Every value is written as Python and the driver would
write it (`repr` of a float, `Decimal` rounding, microseconds rounded half to even), so a profile
stored this way is the profile stored by Django's bulk upsert (tests/personalize/test_profiles_upsert.py
holds them to it, and the property test of tests/personalize/test_profiles_refresh.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from personalize.profiles import (
    AFFINITY_DIMENSIONS,
    DAY_SECONDS,
    Affinities,
    Floats,
    Ints,
    KeptSizes,
    ProfileColumns,
    sizes_with_told,
)

NULL = "\\N"
MICROSECONDS = 1_000_000
DAY_MICROSECONDS = int(DAY_SECONDS) * MICROSECONDS
REGION_FIELDS = ("country_code", "region_code", "region_source", "climate_band", "hemisphere")


def profiles_copy_text(
    columns: ProfileColumns, fields: Sequence[str], values: Mapping[str, str | list[str]]
) -> str:
    """The profiles as COPY's text format, one line per shopper, `fields` in that order: the
    profile fields, or `values` (the same text for every shopper, or one per shopper) for the
    fields that are not the profile's own (the shop, when it was computed, ...)."""
    bought = columns.order_count > 0
    texts: list[str | list[str]] = []
    for field in fields:
        if field in values:
            given = values[field]
            texts.append(copy_escaped(given) if isinstance(given, str) else _escaped(given))
        else:
            texts.append(_FIELDS[field](columns, bought))
    count = len(columns)
    rows = zip(*(([text] * count if isinstance(text, str) else text) for text in texts), strict=True)
    return "".join(f"{line}\n" for line in map("\t".join, rows))


def copy_escaped(text: str) -> str:
    """`text` as a value of COPY's text format: backslash, tab and line ends escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- Fields ----------------------------------------------------------------------------------------


def _escaped(values: list[str]) -> list[str]:
    """Each text escaped for COPY (each distinct one looked at once)."""
    needing = {value for value in set(values) if copy_escaped(value) != value}
    if not needing:
        return values
    table = {value: copy_escaped(value) for value in needing}
    return [table.get(value, value) for value in values]


def _integers(values: Ints) -> list[str]:
    return list(map(str, values.tolist()))


def _floats(values: Iterable[float | None]) -> list[str]:
    """`repr` of each float (as the driver sends a float), NULL for None; each distinct value
    formatted once (but zeros and NaN each time: 0.0 and -0.0 are one key and two texts, and NaN
    is no key)."""
    listed = list(values)
    table = {value: repr(value) for value in set(listed) if value}
    return [NULL if value is None else table.get(value) or repr(value) for value in listed]


def _microseconds(seconds: Floats) -> Ints:
    """Seconds since the epoch to whole microseconds, as datetime.fromtimestamp rounds them: the
    fraction of the second, scaled, to the nearest, ties to even."""
    whole = np.trunc(seconds)
    return whole.astype(np.int64) * MICROSECONDS + np.rint((seconds - whole) * MICROSECONDS).astype(np.int64)


def _timestamps(seconds: Floats, known: np.ndarray[Any, np.dtype[np.bool_]]) -> list[str]:
    texts = np.full(seconds.size, NULL, dtype=object)
    if known.any():
        stamps = np.datetime_as_string(_microseconds(seconds[known]).astype("datetime64[us]"), unit="us")
        texts[known] = [f"{stamp}+00" for stamp in stamps.tolist()]
    return list(texts.tolist())


def _money(cents: Ints) -> list[str]:
    """Cents as a decimal amount with two places (a minus sign when negative)."""
    whole, part = np.divmod(np.abs(cents), 100)
    signs = np.where(cents < 0, "-", "").tolist()
    return [
        f"{sign}{units}.{hundredths:02d}"
        for sign, units, hundredths in zip(signs, whole.tolist(), part.tolist(), strict=True)
    ]


def _divided_to_the_cent(cents: Ints, divisors: Ints) -> Ints:
    """cents / divisors to the nearest cent, ties to even, as Decimal.quantize rounds (by
    magnitude: the sign is put back after)."""
    quotient, remainder = np.divmod(np.abs(cents), divisors)
    up = (2 * remainder > divisors) | ((2 * remainder == divisors) & (quotient % 2 == 1))
    return np.sign(cents) * (quotient + up)


def _customer_shopify_id(columns: ProfileColumns, bought: Any) -> list[str]:
    return _integers(columns.customers)


def _as_of(columns: ProfileColumns, bought: Any) -> str:
    return columns.as_of.isoformat()


def _first_order_at(columns: ProfileColumns, bought: Any) -> list[str]:
    return _timestamps(columns.first_time, bought)


def _last_order_at(columns: ProfileColumns, bought: Any) -> list[str]:
    return _timestamps(columns.last_time, bought)


def _order_count(columns: ProfileColumns, bought: Any) -> list[str]:
    return _integers(columns.order_count)


def _total_spent(columns: ProfileColumns, bought: Any) -> list[str]:
    return _money(np.where(bought, columns.spent_cents, 0))


def _average_order_value(columns: ProfileColumns, bought: Any) -> list[str]:
    return _money(
        _divided_to_the_cent(np.where(bought, columns.spent_cents, 0), np.maximum(columns.order_count, 1))
    )


def _currency(columns: ProfileColumns, bought: Any) -> str:
    return copy_escaped(columns.currency)


def _scores(name: str) -> Callable[[ProfileColumns, Any], list[str]]:
    def scores(columns: ProfileColumns, bought: Any) -> list[str]:
        return _integers(np.where(bought, getattr(columns, name), 0))

    return scores


def _segment(columns: ProfileColumns, bought: Any) -> list[str]:
    return _escaped(columns.segments)


def _typical_days_between_orders(columns: ProfileColumns, bought: Any) -> list[str]:
    known = (bought & ~np.isnan(columns.gaps)).tolist()
    return _floats(
        gap if gap_known else None for gap, gap_known in zip(columns.typical_gaps, known, strict=True)
    )


def _expected_next_order_on(columns: ProfileColumns, bought: Any) -> list[str]:
    """The last order's time plus the typical gap (unrounded), as a date, as a datetime plus a
    timedelta gives it. Gaps are medians of whole numbers of days (whole or half days): exact in
    microseconds."""
    known = bought & ~np.isnan(columns.gaps)
    texts = np.full(columns.gaps.size, NULL, dtype=object)
    if known.any():
        later = _microseconds(columns.last_time[known]) + np.rint(
            columns.gaps[known] * DAY_MICROSECONDS
        ).astype(np.int64)
        days = np.floor_divide(later, DAY_MICROSECONDS).astype("datetime64[D]")
        texts[known] = np.datetime_as_string(days).tolist()
    return list(texts.tolist())


def _predicted_orders_365d(columns: ProfileColumns, bought: Any) -> list[str]:
    return _floats(np.where(bought, columns.predicted_orders, 0.0).tolist())


def _predicted_value_365d(columns: ProfileColumns, bought: Any) -> list[str]:
    return [f"{value:.2f}" for value in np.where(bought, columns.predicted_value, 0.0).tolist()]


def _churn_risk(columns: ProfileColumns, bought: Any) -> list[str]:
    return _floats(
        risk if known else None for risk, known in zip(columns.churn_risk, bought.tolist(), strict=True)
    )


def _price_band(columns: ProfileColumns, bought: Any) -> list[str]:
    return _escaped(np.where(bought, np.array(columns.price_bands, dtype=object), "").tolist())


def _region(name: str) -> Callable[[ProfileColumns, Any], list[str]]:
    def region(columns: ProfileColumns, bought: Any) -> list[str]:
        return _escaped([place[name] for place in columns.regions])

    return region


def _affinities(columns: ProfileColumns, bought: Any) -> list[str]:
    return affinities_json(columns.affinities, len(columns))


def _sizes(columns: ProfileColumns, bought: Any) -> list[str]:
    return sizes_json(columns.sizes, columns.told_sizes, len(columns))


_FIELDS: dict[str, Callable[[ProfileColumns, Any], str | list[str]]] = {
    "customer_shopify_id": _customer_shopify_id,
    "as_of": _as_of,
    "first_order_at": _first_order_at,
    "last_order_at": _last_order_at,
    "order_count": _order_count,
    "total_spent": _total_spent,
    "average_order_value": _average_order_value,
    "currency": _currency,
    "recency_score": _scores("recency"),
    "frequency_score": _scores("frequency"),
    "monetary_score": _scores("monetary"),
    "segment": _segment,
    "typical_days_between_orders": _typical_days_between_orders,
    "expected_next_order_on": _expected_next_order_on,
    "predicted_orders_365d": _predicted_orders_365d,
    "predicted_value_365d": _predicted_value_365d,
    "churn_risk": _churn_risk,
    "affinities": _affinities,
    "sizes": _sizes,
    "price_band": _price_band,
    **{name: _region(name) for name in REGION_FIELDS},
}


# --- JSON ------------------------------------------------------------------------------------------


def affinities_json(affinities: Affinities, count: int) -> list[str]:
    """Per shopper (of `count`), their affinities as a JSON object, escaped for COPY."""
    shopper, dimension = affinities.shopper, affinities.dimension
    if shopper.size == 0:
        return ["{}"] * count
    first = _starts(shopper)
    new_dimension = first.copy()
    new_dimension[1:] |= dimension[1:] != dimension[:-1]
    opening = np.array([f"{_json(name)}:{{" for name in AFFINITY_DIMENSIONS], dtype=object)[dimension]
    prefixes = np.where(first, "{" + opening, np.where(new_dimension, "}," + opening, ",")).tolist()
    names = _json_texts(affinities.name)
    shares = _floats(affinities.share)
    pieces = [f"{prefix}{name}:{share}" for prefix, name, share in zip(prefixes, names, shares, strict=True)]
    return _objects(shopper, first, pieces, "}}", count)


def sizes_json(sizes: KeptSizes, told: Mapping[int, Mapping[str, str]], count: int) -> list[str]:
    """Per shopper (of `count`), their sizes as a JSON object, escaped for COPY: what orders
    suggest, and what the shopper told in its place."""
    shopper = sizes.shopper
    texts = ["{}"] * count
    if shopper.size:
        first = _starts(shopper)
        prefixes = np.where(first, "{", ",").tolist()
        pieces = [
            f'{prefix}{product_type}:{{"size":{size},"quantity":{quantity},"source":"orders"}}'
            for prefix, product_type, size, quantity in zip(
                prefixes,
                _json_texts(sizes.product_type),
                _json_texts(sizes.size),
                sizes.quantity,
                strict=True,
            )
        ]
        texts = _objects(shopper, first, pieces, "}", count)
    for index, told_sizes in told.items():
        low, high = np.searchsorted(shopper, [index, index + 1]).tolist()
        inferred = {
            sizes.product_type[entry]: {
                "size": sizes.size[entry],
                "quantity": sizes.quantity[entry],
                "source": "orders",
            }
            for entry in range(low, high)
        }
        texts[index] = copy_escaped(json.dumps(sizes_with_told(inferred, told_sizes)))
    return texts


def _json(text: str) -> str:
    return copy_escaped(json.dumps(text))


def _json_texts(values: list[str]) -> list[str]:
    """Each text as a JSON string, escaped for COPY (each distinct one once)."""
    table = {value: _json(value) for value in set(values)}
    return [table[value] for value in values]


def _starts(sorted_values: Ints) -> np.ndarray[Any, np.dtype[np.bool_]]:
    starts = np.ones(sorted_values.size, dtype=bool)
    starts[1:] = sorted_values[1:] != sorted_values[:-1]
    return starts


def _objects(
    shopper: Ints, first: np.ndarray[Any, np.dtype[np.bool_]], pieces: list[str], closing: str, count: int
) -> list[str]:
    """Each shopper's pieces (a run of `pieces`, by `shopper`) joined and closed; "{}" for a
    shopper with none."""
    texts = ["{}"] * count
    bounds = np.flatnonzero(np.append(first, True)).tolist()
    for index, start, end in zip(shopper[first].tolist(), bounds, bounds[1:], strict=False):
        texts[index] = "".join(pieces[start:end]) + closing
    return texts
