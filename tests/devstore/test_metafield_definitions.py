"""App-owned metafields as Shopify keeps them: the toml's definitions, `$app` resolved to the app's
reserved namespace, values checked against the definition, and what a metafieldsSet costs."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from devstore.config import (
    AppToml,
    DevstoreConfig,
    MetafieldDefinition,
    app_toml_load,
    metafield_definitions_read,
)
from devstore.db import Row
from tests.devstore.conftest import GraphQL

ROOT = Path(__file__).resolve().parents[2]

SET = """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  metafields { namespace key value type } userErrors { field message code elementIndex } } }"""


@pytest.fixture
def app_toml() -> AppToml:
    """The project's own shopify.app.toml, with its customer metafield definitions."""
    return app_toml_load(ROOT / "shopify.app.toml")


def owner(customer: Row) -> str:
    return f"gid://shopify/Customer/{customer['id']}"


def test_the_tomls_customer_definitions_are_read(app_toml: AppToml) -> None:
    definitions = {d.key: d for d in app_toml.metafield_definitions if d.owner_type == "Customer"}

    assert set(definitions) == {
        "segment",
        "predicted_value_365d",
        "predicted_orders_365d",
        "churn_risk",
        "points_balance",
        "tier",
    }
    assert definitions["churn_risk"].type == "number_decimal"
    assert definitions["churn_risk"].namespace == "$app"
    assert definitions["churn_risk"].validation("max") == 1
    assert "at_risk" in definitions["segment"].validation("choices")
    assert dict(definitions["segment"].access)["admin"] == "merchant_read"


def test_a_named_namespace_is_an_app_sub_namespace_and_standard_lists_are_skipped() -> None:
    data = {
        "product": {
            "metafields": {
                "analytics": {"views": {"type": "number_integer"}},
                "standard_metafields": ["descriptors.subtitle"],
            }
        },
        "access_scopes": {"scopes": "read_products"},
    }

    assert metafield_definitions_read(data) == (
        MetafieldDefinition(
            owner_type="Product", namespace="$app:analytics", key="views", type="number_integer"
        ),
    )


def test_app_namespace_resolves_to_the_apps_reserved_namespace_and_reads_back(
    gql: GraphQL, customer: Row, config: DevstoreConfig
) -> None:
    # Given values written in `$app`, one with the type left to its definition
    written = gql(
        SET,
        {
            "m": [
                {"ownerId": owner(customer), "namespace": "$app", "key": "segment", "value": "loyal"},
                {
                    "ownerId": owner(customer),
                    "namespace": "$app",
                    "key": "churn_risk",
                    "type": "number_decimal",
                    "value": "0.25",
                },
            ]
        },
    )

    # When they are read back by `$app`, by key alone and as a list
    read = gql(
        """query($id: ID!) { customer(id: $id) {
        byApp: metafield(namespace: "$app", key: "segment") { namespace key value type }
        byKey: metafield(key: "churn_risk") { value jsonValue }
        metafields(first: 10, namespace: "$app") { nodes { key } } } }""",
        {"id": owner(customer)},
    )

    # Then Shopify stored them under app--<app id>, typed by the definitions
    reserved = f"app--{config.app_id}"
    assert written["data"]["metafieldsSet"] == {
        "metafields": [
            {"namespace": reserved, "key": "segment", "value": "loyal", "type": "single_line_text_field"},
            {"namespace": reserved, "key": "churn_risk", "value": "0.25", "type": "number_decimal"},
        ],
        "userErrors": [],
    }
    customer_read = read["data"]["customer"]
    assert customer_read["byApp"] == {
        "namespace": reserved,
        "key": "segment",
        "value": "loyal",
        "type": "single_line_text_field",
    }
    assert customer_read["byKey"] == {"value": "0.25", "jsonValue": "0.25"}
    assert customer_read["metafields"]["nodes"] == [{"key": "segment"}, {"key": "churn_risk"}]


@pytest.mark.parametrize(
    ("key", "type_", "value", "error"),
    [
        (
            "segment",
            None,
            "vip",
            {
                "field": ["metafields", "1", "value"],
                "code": "INCLUSION",
                "message": 'Value does not exist in provided choices: ["new", "active", "loyal", "champion",'
                ' "at_risk", "lapsed", "one_time"].',
            },
        ),
        (
            "churn_risk",
            None,
            "1.01",
            {
                "field": ["metafields", "1", "value"],
                "code": "INVALID_VALUE",
                "message": "Value has a maximum of 1.",
            },
        ),
        (
            "predicted_value_365d",
            None,
            "-3",
            {
                "field": ["metafields", "1", "value"],
                "code": "INVALID_VALUE",
                "message": "Value has a minimum of 0.",
            },
        ),
        (
            "predicted_value_365d",
            None,
            "12,50",
            {
                "field": ["metafields", "1", "value"],
                "code": "INVALID_VALUE",
                "message": "Value must be a decimal.",
            },
        ),
        (
            "predicted_orders_365d",
            "number_integer",
            "3",
            {
                "field": ["metafields", "1", "type"],
                "code": "INVALID_TYPE",
                "message": "Type 'number_integer' must be consistent with the definition's type:"
                " 'number_decimal'.",
            },
        ),
    ],
)
def test_a_value_the_definition_refuses_fails_the_whole_call(
    gql: GraphQL, customer: Row, key: str, type_: str | None, value: str, error: dict[str, object]
) -> None:
    # Given a good value and one the definition refuses, in one call
    bad = {"ownerId": owner(customer), "namespace": "$app", "key": key, "value": value}
    if type_:
        bad["type"] = type_

    body = gql(SET, {"m": [{"ownerId": owner(customer), "key": "segment", "value": "new"}, bad]})

    # Then Shopify names the refused input, and writes nothing of the call
    assert body["data"]["metafieldsSet"] == {"metafields": [], "userErrors": [{**error, "elementIndex": 1}]}
    read = gql(
        "query($id: ID!) { customer(id: $id) { metafields(first: 5) { nodes { key } } } }",
        {"id": owner(customer)},
    )
    assert read["data"]["customer"]["metafields"]["nodes"] == []


def test_another_apps_reserved_namespace_is_not_this_apps_to_write(gql: GraphQL, customer: Row) -> None:
    body = gql(SET, {"m": [{"ownerId": owner(customer), "namespace": "app--42", "key": "x", "value": "y"}]})

    assert body["data"]["metafieldsSet"]["userErrors"] == [
        {
            "field": ["metafields", "0", "namespace"],
            "message": "Access to this namespace and key on Metafields for this resource type"
            " is not allowed.",
            "code": "APP_NOT_AUTHORIZED",
            "elementIndex": 0,
        }
    ]


def test_a_customer_of_another_shop_is_not_an_owner(
    gql: GraphQL, client: TestClient, other_shop: Row
) -> None:
    stranger = client.post(
        "/_devstore/customers", json={"shop": other_shop["domain"], "email": "x@example.com"}
    )

    body = gql(
        SET,
        {
            "m": [
                {
                    "ownerId": f"gid://shopify/Customer/{stranger.json()['customer']['id']}",
                    "key": "segment",
                    "value": "new",
                }
            ]
        },
    )

    assert body["data"]["metafieldsSet"]["userErrors"][0]["code"] == "INVALID"


def test_control_api_metafields_in_app_namespace_resolve_too(
    client: TestClient, gql: GraphQL, config: DevstoreConfig
) -> None:
    created = client.post(
        "/_devstore/customers",
        json={
            "email": "kai@example.com",
            "metafields": [
                {"namespace": "$app", "key": "segment", "value": "champion", "type": "single_line_text_field"}
            ],
        },
    ).json()["customer"]

    read = gql(
        """query($id: ID!) { customer(id: $id) {
        metafield(namespace: "$app", key: "segment") { namespace value } } }""",
        {"id": f"gid://shopify/Customer/{created['id']}"},
    )

    assert read["data"]["customer"]["metafield"] == {
        "namespace": f"app--{config.app_id}",
        "value": "champion",
    }


def test_a_metafields_set_costs_10_from_the_bucket(gql: GraphQL, customer: Row) -> None:
    first = gql(SET, {"m": [{"ownerId": owner(customer), "key": "segment", "value": "new"}]})
    second = gql(SET, {"m": [{"ownerId": owner(customer), "key": "segment", "value": "active"}]})

    costs = [body["extensions"]["cost"] for body in (first, second)]
    assert [c["requestedQueryCost"] for c in costs] == [10, 10]
    assert [c["actualQueryCost"] for c in costs] == [10, 10]
    assert costs[0]["throttleStatus"]["maximumAvailable"] == 2000
    # A full bucket less this call's cost; the second call's figure depends on how much the bucket
    # restored in between (100 a second), so only its bounds are certain.
    assert costs[0]["throttleStatus"]["currentlyAvailable"] == 1990
    assert 1980 <= costs[1]["throttleStatus"]["currentlyAvailable"] <= 2000
