"""Storing profiles: the COPY upsert of PostgreSQL writes the very rows Django's portable bulk upsert
writes, new or updated, whatever the values hold; and the bulk reads of personalize.history give
what was stored."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.forms.models import model_to_dict

from commerce.models import Order
from personalize import refresh
from personalize.history import INT, SHORT_TEXT, ShortText, columns_read
from personalize.models import Profile
from shop_app.models import Shop
from tests.personalize.histories import order_row

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


def profile(customer: int, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "customer_shopify_id": customer,
        "as_of": date(2026, 11, 30),
        "first_order_at": datetime(2024, 9, 30, 11, tzinfo=UTC),
        "last_order_at": datetime(2026, 8, 1, 2, 0, 7, 500_000, tzinfo=UTC),
        "order_count": 4,
        "total_spent": Decimal("346.00"),
        "average_order_value": Decimal("86.50"),
        "currency": "USD",
        "recency_score": 3,
        "frequency_score": 1,
        "monetary_score": 4,
        "segment": "active",
        "typical_days_between_orders": 245.0,
        "expected_next_order_on": date(2027, 4, 3),
        "predicted_orders_365d": 1.044,
        "predicted_value_365d": Decimal("87.89"),
        "churn_risk": 0.2892,
        # Names a text COPY must escape, and one beyond ASCII
        "affinities": {"tag": {"tab\there": 0.5, "back\\slash": 0.25, 'quote"d\nline': 0.25}},
        "sizes": {"Shirts": {"size": "大", "quantity": 2, "source": "orders"}},
        "price_band": "budget",
        "country_code": "JP",
        "region_code": "JP-13",
        "region_source": "told",
        "climate_band": "temperate",
        "hemisphere": "north",
        "computed_at": datetime(2026, 11, 30, 3, tzinfo=UTC),
        "metafields_value": "segment=active",
    }
    values.update(changes)
    return values


def with_no_orders(customer: int) -> dict[str, Any]:
    return profile(
        customer,
        first_order_at=None,
        last_order_at=None,
        order_count=0,
        total_spent=Decimal("0.00"),
        average_order_value=Decimal("0.00"),
        typical_days_between_orders=None,
        expected_next_order_on=None,
        churn_risk=None,
        affinities={},
        sizes={},
        segment="",
        metafields_value="",
    )


def stored(shop: Shop) -> dict[int, dict[str, Any]]:
    return {
        row.customer_shopify_id: model_to_dict(row, exclude=["id"])
        for row in Profile.objects.for_shop(shop).order_by("customer_shopify_id")
    }


@postgresql_only
def test_the_copy_upsert_writes_what_the_portable_one_writes(shop: Shop, other_shop: Shop) -> None:
    first = [profile(1), with_no_orders(2)]
    updated = [profile(1, segment="at_risk", churn_risk=0.71, sizes={}), profile(3)]

    # Given the same profiles stored, then updated, by each path in its own shop
    refresh._profiles_copy_upsert(shop, first)
    refresh._profiles_copy_upsert(shop, updated)
    refresh._profiles_bulk_upsert(other_shop, first)
    refresh._profiles_bulk_upsert(other_shop, updated)

    # Then the rows are the same, field by field (the shop aside)
    by_copy, by_bulk = stored(shop), stored(other_shop)
    for rows in (by_copy, by_bulk):
        for row in rows.values():
            row.pop("shop")
    assert by_copy == by_bulk
    assert sorted(by_copy) == [1, 2, 3]
    assert by_copy[1]["segment"] == "at_risk"
    assert by_copy[1]["affinities"] == first[0]["affinities"]


@postgresql_only
def test_an_update_keeps_what_was_written_to_shopify(shop: Shop) -> None:
    refresh._profiles_copy_upsert(shop, [profile(1)])
    Profile.objects.for_shop(shop).update(metafields_written="segment=active")

    refresh._profiles_copy_upsert(shop, [profile(1, segment="loyal")])

    row = Profile.objects.for_shop(shop).get(customer_shopify_id=1)
    assert (row.segment, row.metafields_written) == ("loyal", "segment=active")


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
