"""Profiles written back to the shop's customer metafields, against a live devstore: only what
changed, in batches, and never again once written."""

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from personalize.models import Profile, ProfileSettings
from personalize.shopify_sync import metafields_sync_step, metafields_value
from shop_app.admin_api import AdminClient
from shop_app.models import Shop
from tests.live import Devstore, install

pytestmark = pytest.mark.integration

READ_BACK = """
query($first: Int!) {
  customers(first: $first) {
    nodes { id metafields(first: 4, namespace: "$app") { nodes { key value } } }
  }
}"""


def stored(shop: Shop) -> dict[int, dict[str, str]]:
    nodes = AdminClient(shop).graphql(READ_BACK, {"first": 50})["customers"]["nodes"]
    return {
        int(node["id"].rsplit("/", 1)[1]): {m["key"]: m["value"] for m in node["metafields"]["nodes"]}
        for node in nodes
        if node["metafields"]["nodes"]
    }


def profile(
    shop: Shop, customer_id: int, segment: str, value: str = "120.50", churn: float = 0.25
) -> Profile:
    fields: dict[str, Any] = {
        "segment": segment,
        "predicted_value_365d": Decimal(value),
        "predicted_orders_365d": 1.5 if segment else 0.0,
        "churn_risk": churn if segment else None,
    }
    return Profile.objects.create(
        shop=shop,
        customer_shopify_id=customer_id,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
        metafields_value=metafields_value(fields),
        **fields,
    )


def test_changed_profiles_are_written_once_and_shoppers_without_orders_not_at_all(
    devstore: Devstore, db: None
) -> None:
    devstore.seed(customers=3, orders=0)
    first, second, third = sorted(
        int(c["id"]) for c in devstore.control("GET", "/customers", limit="3")["customers"]
    )
    shop = install(devstore)
    profile(shop, first, "champion", "480.00", 0.05)
    profile(shop, second, "at_risk", "35.10", 0.81)
    profile(shop, third, "")

    # When the sync runs
    assert metafields_sync_step(shop) is None

    # Then Shopify holds the two profiles with orders, as its types want them
    assert stored(shop) == {
        first: {
            "segment": "champion",
            "predicted_value_365d": "480.00",
            "predicted_orders_365d": "1.500",
            "churn_risk": "0.0500",
        },
        second: {
            "segment": "at_risk",
            "predicted_value_365d": "35.10",
            "predicted_orders_365d": "1.500",
            "churn_risk": "0.8100",
        },
    }
    # And nothing waits any more: a second run writes nothing
    for written in Profile.objects.filter(shop=shop).exclude(segment=""):
        assert written.metafields_written == written.metafields_value
    assert metafields_sync_step(shop) is None


def test_a_merchant_who_turned_the_sync_off_gets_nothing_written(devstore: Devstore, db: None) -> None:
    devstore.seed(customers=1, orders=0)
    (only,) = [int(c["id"]) for c in devstore.control("GET", "/customers", limit="1")["customers"]]
    shop = install(devstore)
    ProfileSettings.objects.create(shop=shop, metafields_sync=False)
    profile(shop, only, "loyal")

    assert metafields_sync_step(shop) is None
    assert stored(shop) == {}
