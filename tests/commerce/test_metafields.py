"""The customer metafields writer against a live devstore: batches within Shopify's 25, values read
back as Shopify stores them, a refused value recorded without losing the rest, and the cost bucket
respected by stopping early."""

import logging
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.cache import cache

from commerce.metafields import (
    CUSTOMER_METAFIELD_TYPES,
    METAFIELDS_PER_CALL,
    CustomerMetafields,
    MetafieldError,
    MetafieldsInputError,
    customer_metafields_write,
)
from shop_app.admin_api import AdminClient
from shop_app.models import Shop
from tests.live import Devstore, install

ROOT = Path(__file__).resolve().parents[2]
SEGMENTS = ["new", "active", "loyal", "champion", "at_risk", "lapsed", "one_time"]

READ_BACK = """
query($first: Int!) {
  customers(first: $first) {
    nodes {
      id
      segment: metafield(namespace: "$app", key: "segment") { namespace type value }
      metafields(first: 4, namespace: "$app") { nodes { key value } }
    }
  }
}"""


class RecordingClient(AdminClient):
    """The app's Admin API client, keeping the metafields of every metafieldsSet it sends."""

    def __init__(self, shop: Shop, **kwargs: Any) -> None:
        super().__init__(shop, **kwargs)
        self.sent: list[list[dict[str, str]]] = []

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "metafieldsSet" in query:
            self.sent.append(list((variables or {})["metafields"]))
        return super().graphql(query, variables)


def make_customers(devstore: Devstore, count: int) -> list[int]:
    """A store of `count` customers (seeded: no webhooks), their ids in order."""
    devstore.seed(customers=count, orders=0)
    return sorted(int(c["id"]) for c in devstore.control("GET", "/customers", limit=str(count))["customers"])


def profile_values(customer_ids: list[int]) -> list[CustomerMetafields]:
    return [
        CustomerMetafields(
            customer_id,
            {
                "segment": SEGMENTS[n % len(SEGMENTS)],
                "predicted_value_365d": f"{100 + n}.50",
                "predicted_orders_365d": "2.75",
                "churn_risk": "0.125",
            },
        )
        for n, customer_id in enumerate(customer_ids)
    ]


def stored(shop: Shop) -> dict[int, dict[str, str]]:
    """Each customer's `$app` metafields, as devstore answers them over the Admin API."""
    nodes = AdminClient(shop).graphql(READ_BACK, {"first": 60})["customers"]["nodes"]
    return {
        int(node["id"].rsplit("/", 1)[1]): {m["key"]: m["value"] for m in node["metafields"]["nodes"]}
        for node in nodes
        if node["metafields"]["nodes"]
    }


def forget_the_bucket(shop: Shop) -> None:
    """What the app last heard of the shop's cost bucket (shared through the cache) is forgotten,
    as it is once the wait has passed."""
    cache.delete(f"shopify-bucket:{shop.domain}")


def test_the_table_beside_the_writer_is_the_tomls_definitions() -> None:
    toml = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    declared = toml["customer"]["metafields"]["app"]

    assert {key: definition["type"] for key, definition in declared.items()} == dict(CUSTOMER_METAFIELD_TYPES)
    assert declared["segment"]["validations"]["choices"] == SEGMENTS


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ([CustomerMetafields(7, {"lifetime_value": "3.00"})], "'lifetime_value'"),
        ([CustomerMetafields(7, {"churn_risk": 0.5})], "churn_risk"),  # type: ignore[dict-item]
        ([CustomerMetafields(7, {"segment": ""})], "segment"),
        ([CustomerMetafields(0, {"segment": "new"})], "customer_shopify_id"),
        ([CustomerMetafields(7, {"segment": "new"}), CustomerMetafields(7, {"churn_risk": "0.1"})], "7"),
        ([{"customer_shopify_id": 7, "fields": {"segment": "new"}}], "values[0]"),
    ],
)
def test_malformed_input_is_refused_before_anything_is_sent(shop: Shop, values: Any, named: str) -> None:
    class NoCalls:
        def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            raise AssertionError("nothing may be sent")

    with pytest.raises(MetafieldsInputError) as raised:
        customer_metafields_write(shop, values, client=cast(AdminClient, NoCalls()))

    assert named in str(raised.value)
    assert "0.5" not in str(raised.value)


def test_nothing_to_write_sends_nothing(shop: Shop) -> None:
    result = customer_metafields_write(shop, [CustomerMetafields(7, {})], client=cast(AdminClient, object()))

    assert (result.written, result.calls, result.errors, result.done) == (0, 0, (), True)


@pytest.mark.integration
def test_sixty_customers_are_written_in_calls_of_at_most_25_and_read_back(
    devstore: Devstore, db: None
) -> None:
    # Given 60 customers in the store and their profiles' four values each
    customer_ids = make_customers(devstore, 60)
    shop = install(devstore)
    forget_the_bucket(shop)
    client = RecordingClient(shop)

    # When the writer sends them
    result = customer_metafields_write(shop, profile_values(customer_ids), client=client)

    # Then all 240 went in calls of at most 25, a customer's four never split: 6 customers a call
    assert (result.written, result.errors, result.done, result.retry_after) == (240, (), True, None)
    assert result.calls == len(client.sent) == 10
    assert all(len(call) <= METAFIELDS_PER_CALL for call in client.sent)
    assert {m["namespace"] for call in client.sent for m in call} == {"$app"}
    # And Shopify (devstore) holds them under the app's reserved namespace, typed by the definitions
    answer = AdminClient(shop).graphql(READ_BACK, {"first": 60})["customers"]["nodes"]
    first = next(node for node in answer if node["id"] == f"gid://shopify/Customer/{customer_ids[0]}")
    assert first["segment"]["namespace"].startswith("app--")
    assert first["segment"]["type"] == "single_line_text_field"
    assert stored(shop) == {
        values.customer_shopify_id: dict(values.fields) for values in profile_values(customer_ids)
    }


@pytest.mark.integration
def test_a_refused_value_is_recorded_and_the_others_are_written(
    devstore: Devstore, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Given three customers, one with a churn risk over 1 and one with a segment Shopify does not know
    good, too_risky, unknown_segment = make_customers(devstore, 3)
    shop = install(devstore)
    forget_the_bucket(shop)
    values = profile_values([good, too_risky, unknown_segment])
    values[1] = CustomerMetafields(too_risky, {**values[1].fields, "churn_risk": "1.5"})
    values[2] = CustomerMetafields(unknown_segment, {**values[2].fields, "segment": "vip"})
    client = RecordingClient(shop)

    # When the writer sends them
    with caplog.at_level(logging.INFO):
        result = customer_metafields_write(shop, values, client=client)

    # Then each refusal is recorded against its customer and field
    assert sorted(result.errors, key=lambda e: e.customer_shopify_id) == sorted(
        [
            MetafieldError(too_risky, "churn_risk", "INVALID_VALUE", "Value has a maximum of 1."),
            MetafieldError(
                unknown_segment,
                "segment",
                "INCLUSION",
                'Value does not exist in provided choices: ["new", "active", "loyal", "champion",'
                ' "at_risk", "lapsed", "one_time"].',
            ),
        ],
        key=lambda e: e.customer_shopify_id,
    )
    # And everything else was written, on a second call without the two refused values
    assert (result.written, result.calls, result.done) == (10, 2, True)
    assert [len(call) for call in client.sent] == [12, 10]
    held = stored(shop)
    assert held[good] == dict(values[0].fields)
    assert held[too_risky] == {k: v for k, v in values[1].fields.items() if k != "churn_risk"}
    assert held[unknown_segment] == {k: v for k, v in values[2].fields.items() if k != "segment"}
    # And the log names the fields, not the values
    assert "churn_risk" in caplog.text
    assert "1.5" not in caplog.text
    assert "vip" not in caplog.text


@pytest.mark.integration
def test_a_low_bucket_stops_the_writer_with_what_remains_and_when_to_go_on(
    devstore: Devstore, db: None
) -> None:
    # Given 60 customers and a 40-point bucket restoring 1 point a second (a metafieldsSet costs 10)
    customer_ids = make_customers(devstore, 60)
    shop = install(devstore)
    forget_the_bucket(shop)
    devstore.settings(bucket_size=40, restore_rate=1)
    values = profile_values(customer_ids)

    # When the writer sends them
    first = customer_metafields_write(shop, values, client=RecordingClient(shop))

    # Then it stopped once the bucket fell under half (40 -> 30 -> 20 -> 10), keeping the rest
    assert (first.calls, first.written, first.errors, first.done) == (3, 72, (), False)
    assert [v.customer_shopify_id for v in first.remaining] == customer_ids[18:]
    assert first.remaining == tuple(values[18:])
    # And asked to go on once the bucket is full again: about 30 s at 1 point a second
    assert first.retry_after is not None
    assert 25 <= first.retry_after <= 31

    # When the job runs again after that wait (here: a bucket back to Shopify's default)
    devstore.settings(bucket_size=2000, restore_rate=100)
    forget_the_bucket(shop)
    assert set(stored(shop)) == set(customer_ids[:18])
    client = RecordingClient(shop)
    second = customer_metafields_write(shop, first.remaining, client=client)

    # Then the rest is written
    assert (second.calls, second.written, second.done) == (7, 168, True)
    assert stored(shop) == {v.customer_shopify_id: dict(v.fields) for v in values}


@pytest.mark.integration
def test_throttled_anyway_hands_everything_back(devstore: Devstore, db: None) -> None:
    # Given a bucket smaller than one metafieldsSet, so Shopify answers THROTTLED every time
    customer_ids = make_customers(devstore, 2)
    shop = install(devstore)
    forget_the_bucket(shop)
    devstore.settings(bucket_size=5, restore_rate=1)
    values = profile_values(customer_ids)

    # When the writer tries (its client waiting out the throttling as far as it will)
    result = customer_metafields_write(shop, values, client=AdminClient(shop, sleep=lambda seconds: None))

    # Then nothing was written, and everything is handed back with a wait
    assert (result.written, result.calls, result.done) == (0, 0, False)
    assert result.remaining == tuple(values)
    assert result.retry_after is not None
    assert result.retry_after >= 1
