"""Storing profiles: the COPY upsert of PostgreSQL (its text built column by column) writes the very
rows Django's portable bulk upsert writes, new or updated, whatever the values hold; and the bulk
reads of personalize.history give what was stored."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.models import Order
from personalize import refresh
from personalize.history import INT, SHORT_TEXT, ShortText, columns_read
from personalize.models import Profile
from personalize.profiles import ProductTraits, ToldFacts, profiles_columns
from personalize.shopify_sync import metafields_values
from shop_app.models import Shop
from tests.personalize.histories import AS_OF, Line, Purchase, history_of, order_row, parameters

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

# Names a text COPY must escape (tab, backslash, quote, line end), and some beyond ASCII
PRODUCTS = {
    1: ProductTraits(
        product_type='Shirts\tand "tees"',
        vendor="back\\slash",
        tags=("tab\there", 'quote"d\nline', "大", "cr\rlf"),
        collections=("summer",),
    ),
    2: ProductTraits(product_type="Coats", vendor="Yuki", tags=("wool",), collections=()),
}
TOLD = {
    4: ToldFacts(sizes={"Coats": "X\tL", 'Shirts\tand "tees"': "大"}, country_code="JP", region_code="JP-13"),
    5: ToldFacts(country_code="GB", region_code="GB\\S\tX"),
}
ORDERS = [
    # Two on one day, then gaps of 10 and 11 days (a typical gap of 10.5), at times with microseconds
    Purchase(1, 30.123456789, [Line(1, 2, 3_333, "大"), Line(2, 1, 12_345, 'X"L')]),
    Purchase(1, 30.5, [Line(1, 1, 2_000, "S", refunded=1)]),
    Purchase(1, 20.000001, [Line(2, 3, 999, "M")], country="JP"),
    Purchase(1, 9.25, [Line(1, 1, 1_001, "M")]),
    # Refunded more than it cost: spend below zero
    Purchase(2, 400, [Line(2, 1, 1_000, "L")], refund_cents=2_501),
    Purchase(3, 1, [Line(1, 2, 5_000, "S", refunded=2)], country="US"),
    Purchase(4, 75.5, [Line(2, size="L")]),
]


def computed(shop: Shop, purchases: list[Purchase], told: dict[int, ToldFacts]) -> refresh.ComputedProfiles:
    """The profiles of these purchases (and of shoppers 5 and 6, with none), ready to store."""
    history = history_of(
        purchases, PRODUCTS, addresses={3: ("US", "US-CA"), 6: ("AU", "AU-NSW")}, customers=[5, 6]
    )
    columns = profiles_columns(history, told, parameters(), AS_OF)
    return refresh.ComputedProfiles(
        shop.pk, columns, datetime(2026, 11, 30, 3, 0, 0, 123_456, tzinfo=UTC), metafields_values(columns)
    )


def stored(shop: Shop) -> dict[int, dict[str, Any]]:
    return {
        row.customer_shopify_id: model_to_dict(row, exclude=["id", "shop"])
        for row in Profile.objects.for_shop(shop).order_by("customer_shopify_id")
    }


@postgresql_only
def test_the_copy_upsert_writes_what_the_portable_one_writes(shop: Shop, other_shop: Shop) -> None:
    later = [*ORDERS[1:], Purchase(1, 2, [Line(2, 1, 4_000, "S")]), Purchase(7, 3, [Line(1, 5, 100, "M")])]

    # Given the same profiles stored, then updated, by each path in its own shop
    for purchases, told in ((ORDERS, TOLD), (later, {5: TOLD[5]})):
        refresh._profiles_copy_upsert(shop, computed(shop, purchases, told))
        refresh._profiles_bulk_upsert(other_shop, computed(other_shop, purchases, told).dicts())

    # Then the rows are the same, field by field
    by_copy, by_bulk = stored(shop), stored(other_shop)
    assert by_copy == by_bulk
    assert sorted(by_copy) == [1, 2, 3, 4, 5, 6, 7]
    assert by_copy[1]["affinities"]["tag"]["tab\there"] > 0
    assert by_copy[2]["total_spent"] < 0
    assert by_copy[1]["typical_days_between_orders"] is not None
    assert by_copy[5]["region_code"] == "GB\\S\tX"
    assert by_copy[6]["segment"] == ""
    # The told sizes were withdrawn by the update
    assert by_copy[4]["sizes"] == {"Coats": {"size": "L", "quantity": 1, "source": "orders"}}


@postgresql_only
def test_the_copy_upsert_writes_what_a_profile_says(shop: Shop) -> None:
    profiles = computed(shop, ORDERS, TOLD)

    refresh._profiles_copy_upsert(shop, profiles)

    rows = stored(shop)
    for values in profiles.dicts():
        assert rows[values["customer_shopify_id"]] == {**values, "metafields_written": ""}
    assert rows[4]["sizes"]["Coats"] == {"size": "X\tL", "source": "told"}


@postgresql_only
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    orders=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=4),  # shopper
            st.floats(min_value=0, max_value=900),  # days ago
            st.integers(min_value=-3, max_value=3),  # a fraction of a microsecond off, in quarters
            st.integers(min_value=1, max_value=99_999),  # cents
            st.integers(min_value=0, max_value=5_000),  # refunded cents
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_profiles_are_stored_alike_by_copy_and_by_django(
    shop: Shop, other_shop: Shop, orders: list[tuple[int, float, int, int, int]]
) -> None:
    Profile.objects.filter(shop__in=[shop, other_shop]).delete()
    # Given orders at any time, read as the database gives seconds (a hair off a microsecond), of
    # any amount and refund
    history = history_of(
        [
            Purchase(customer, days, [Line(1 + customer % 2, 1, cents, "M")], refund_cents=refunded)
            for customer, days, _, cents, refunded in orders
        ],
        PRODUCTS,
    )
    off = np.array([quarters * 0.25e-6 for _, _, quarters, _, _ in orders])
    history = replace(
        history,
        order_time=history.order_time + off,
        line_time=history.line_time + off[history.line_order_id - 1],
    )
    columns = profiles_columns(history, {}, parameters(), AS_OF)
    computed_at = datetime(2026, 11, 30, 3, tzinfo=UTC)

    # When each path stores them
    refresh._profiles_copy_upsert(
        shop, refresh.ComputedProfiles(shop.pk, columns, computed_at, metafields_values(columns))
    )
    refresh._profiles_bulk_upsert(
        other_shop,
        refresh.ComputedProfiles(other_shop.pk, columns, computed_at, metafields_values(columns)).dicts(),
    )

    # Then they stored the same
    assert stored(shop) == stored(other_shop)


@postgresql_only
def test_an_update_keeps_what_was_written_to_shopify(shop: Shop) -> None:
    refresh._profiles_copy_upsert(shop, computed(shop, ORDERS, TOLD))
    Profile.objects.for_shop(shop).update(metafields_written="segment=active")

    refresh._profiles_copy_upsert(shop, computed(shop, [*ORDERS, Purchase(3, 0.5, [Line(2)])], TOLD))

    row = Profile.objects.for_shop(shop).get(customer_shopify_id=3)
    assert (row.order_count, row.metafields_written) == (2, "segment=active")


def test_columns_are_read_in_bulk_as_stored(shop: Shop, other_shop: Shop) -> None:
    order_row(shop, 7, 10, [], country="JP")
    order_row(shop, 8, 20, [], country="")
    order_row(other_shop, 9, 20, [], country="US")

    customers, countries = columns_read(
        Order.objects.for_shop(shop)
        .order_by("customer_shopify_id")
        .values_list("customer_shopify_id", ShortText("shipping_country_code")),
        (INT, SHORT_TEXT),
    )

    order = np.argsort(customers)
    assert customers[order].tolist() == [7, 8]
    assert countries[order].tolist() == ["JP", ""]


def test_a_null_is_refused_rather_than_lost(shop: Shop) -> None:
    order_row(shop, 7, 10, [])
    Order.objects.for_shop(shop).update(customer_shopify_id=None)

    with pytest.raises(ValueError, match="NULL"):
        columns_read(Order.objects.for_shop(shop).values_list("customer_shopify_id"), (INT,))
