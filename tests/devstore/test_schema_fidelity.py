"""devstore's Admin API schema agrees with Shopify's published one, type for type.

devstore serves a slice of Shopify's schema (tests/fixtures/shopify/). Every type it defines is
Shopify's, of the same kind; every field, argument and input field it has is Shopify's, with the
same type (nullability, list wrapping, named type) and default; every enum value and union member
is Shopify's; and it asks for every argument or input field Shopify requires. So a document that
runs against devstore runs against Shopify, and the values it answers are Shopify's spellings.
"""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    is_required_argument,
    is_required_input_field,
    print_ast,
)
from graphql.utilities import get_default_value_ast

from devstore.admin_api.schema import admin_schema
from devstore.db import Row
from tests.devstore.conftest import GraphQL
from tests.shopify_schema import shopify_admin_schema


def devstore_type_names() -> list[str]:
    return sorted(name for name in admin_schema().type_map if not name.startswith("__"))


def default_of(value: GraphQLArgument | GraphQLInputField) -> str:
    literal = get_default_value_ast(value)
    return "(no default)" if literal is None else print_ast(literal)


def input_value_differences(
    where: str,
    ours: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
    theirs: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
) -> list[str]:
    problems = []
    for name, value in ours.items():
        shopify = theirs.get(name)
        if shopify is None:
            problems.append(f"{where}: {name} is not Shopify's")
            continue
        if str(value.type) != str(shopify.type):
            problems.append(f"{where}: {name} is {value.type}, Shopify's is {shopify.type}")
        ours_default, shopify_default = default_of(value), default_of(shopify)
        if ours_default != shopify_default:
            problems.append(f"{where}: {name} = {ours_default}, Shopify's = {shopify_default}")
    for name, shopify in theirs.items():
        required = (
            is_required_argument(shopify)
            if isinstance(shopify, GraphQLArgument)
            else is_required_input_field(shopify)
        )
        if required and name not in ours:
            problems.append(f"{where}: Shopify requires {name}: {shopify.type}")
    return problems


def differences(ours: GraphQLNamedType, theirs: GraphQLNamedType) -> list[str]:
    """How devstore's type departs from Shopify's, in words; empty when it is a faithful slice."""
    if type(ours) is not type(theirs):
        return [f"devstore's is a {type(ours).__name__}, Shopify's a {type(theirs).__name__}"]
    problems = []
    if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType)
        extra = {i.name for i in ours.interfaces} - {i.name for i in theirs.interfaces}
        problems.extend(f"implements {name}, Shopify's does not" for name in sorted(extra))
        for name, field in ours.fields.items():
            shopify = theirs.fields.get(name)
            if shopify is None:
                problems.append(f"{name} is not Shopify's")
                continue
            if str(field.type) != str(shopify.type):
                problems.append(f"{name} is {field.type}, Shopify's is {shopify.type}")
            problems.extend(input_value_differences(f"{name}()", field.args, shopify.args))
    elif isinstance(ours, GraphQLInputObjectType):
        assert isinstance(theirs, GraphQLInputObjectType)
        problems.extend(input_value_differences("input", ours.fields, theirs.fields))
    elif isinstance(ours, GraphQLEnumType):
        assert isinstance(theirs, GraphQLEnumType)
        extra = set(ours.values) - set(theirs.values)
        problems.extend(f"value {value} is not Shopify's" for value in sorted(extra))
    elif isinstance(ours, GraphQLUnionType):
        assert isinstance(theirs, GraphQLUnionType)
        extra = {t.name for t in ours.types} - {t.name for t in theirs.types}
        problems.extend(f"member {name} is not Shopify's" for name in sorted(extra))
    return problems


@pytest.mark.parametrize("name", devstore_type_names())
def test_devstore_type_is_a_slice_of_shopifys(name: str) -> None:
    # Given one of the types devstore's schema defines
    ours = admin_schema().type_map[name]

    # When it is looked up in Shopify's schema
    theirs = shopify_admin_schema().type_map.get(name)

    # Then Shopify has it, and devstore's fields, arguments and values are all Shopify's
    assert theirs is not None, f"{name} is not in Shopify's schema"
    problems = differences(ours, theirs)
    assert not problems, f"{name} departs from Shopify's: " + "; ".join(problems)


def test_root_types_are_named_as_shopifys() -> None:
    ours, theirs = admin_schema(), shopify_admin_schema()
    assert ours.query_type is not None
    assert theirs.query_type is not None
    assert ours.query_type.name == theirs.query_type.name
    assert (ours.mutation_type and ours.mutation_type.name) == (
        theirs.mutation_type and theirs.mutation_type.name
    )
    assert ours.subscription_type is None


def test_fields_typed_as_shopifys_enums_and_scalars_still_answer(
    gql: GraphQL, customer: Row, product: Row
) -> None:
    # Given a customer with an address and a metafield, and a product
    owner = f"gid://shopify/Customer/{customer['id']}"
    written = gql(
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        metafields { ownerType } userErrors { code } } }""",
        {"m": [{"ownerId": owner, "namespace": "custom", "key": "tier", "value": "gold"}]},
    )

    # When they are read back
    read = gql(
        """query($customer: ID!, $product: ID!) {
        customer(id: $customer) { defaultAddress { countryCodeV2 } }
        product(id: $product) { descriptionHtml } }""",
        {"customer": owner, "product": f"gid://shopify/Product/{product['id']}"},
    )

    # Then they answer as Shopify's enums and scalars
    assert "errors" not in written
    assert written["data"]["metafieldsSet"] == {"metafields": [{"ownerType": "CUSTOMER"}], "userErrors": []}
    assert "errors" not in read
    assert read["data"]["customer"] == {"defaultAddress": {"countryCodeV2": "AU"}}
    assert isinstance(read["data"]["product"]["descriptionHtml"], str)


def test_user_error_codes_answer_as_shopifys_enums(gql: GraphQL, shop: Row) -> None:
    # Given inputs naming owners that do not exist
    missing = "gid://shopify/Customer/999999"

    # When the mutations refuse them
    metafields = gql(
        """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        userErrors { code elementIndex } } }""",
        {"m": [{"ownerId": "gid://shopify/Nothing/1", "key": "tier", "value": "gold"}]},
    )
    consent = gql(
        """mutation($input: CustomerEmailMarketingConsentUpdateInput!) {
        customerEmailMarketingConsentUpdate(input: $input) { userErrors { code } } }""",
        {"input": {"customerId": missing, "emailMarketingConsent": {"marketingState": "SUBSCRIBED"}}},
    )

    # Then each error's code is a value of Shopify's error-code enum
    assert "errors" not in metafields
    assert metafields["data"]["metafieldsSet"]["userErrors"] == [{"code": "INVALID", "elementIndex": 0}]
    assert "errors" not in consent
    assert consent["data"]["customerEmailMarketingConsentUpdate"]["userErrors"] == [{"code": "INVALID"}]
