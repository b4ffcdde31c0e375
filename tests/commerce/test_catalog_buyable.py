from typing import Any

import pytest

from commerce.catalog import variants_buyable
from commerce.ingest import product_delete
from shop_app.models import Shop
from tests.commerce.catalog_nodes import given_product, variant_node


def variant(number: int, size: str, available: int | None) -> dict[str, Any]:
    return variant_node(number, size, available=available)


def ids(buyable: dict[int, list[Any]]) -> dict[int, list[int]]:
    return {product_id: [v.shopify_id for v in variants] for product_id, variants in buyable.items()}


def test_only_active_products_with_the_size_in_stock_are_buyable(
    shop: Shop, django_assert_num_queries: Any
) -> None:
    given_product(shop, 1, variant(11, "S", 3), variant(12, "M", 2), variant(13, "M", 0))
    given_product(shop, 2, variant(21, "M", 0), variant(22, "L", 4))  # M sold out
    given_product(shop, 3, variant(31, "M", 5), status="DRAFT")
    given_product(shop, 4, variant(41, "M", 5), status="ARCHIVED")
    given_product(shop, 5, variant(51, "M", 5))
    product_delete(shop, 5)
    given_product(shop, 6, variant(61, "M", None))  # stock unknown
    given_product(shop, 7, variant(71, "M", 1))  # not asked for

    with django_assert_num_queries(1):
        buyable = variants_buyable(shop, [1, 2, 3, 4, 5, 6], option_name="Size", option_value="M")
        assert [v.product.title for v in buyable[1]] == ["Merino Crew"]  # products come with the query

    assert ids(buyable) == {1: [8012]}


def test_the_size_is_matched_without_regard_to_case_and_without_a_size_any_stocked_variant_counts(
    shop: Shop,
) -> None:
    given_product(shop, 1, variant(11, "S", 3), variant(12, "M", 2), variant(13, "L", 0))

    assert ids(variants_buyable(shop, [1], option_value="m")) == {1: [8012]}
    assert ids(variants_buyable(shop, [1])) == {1: [8011, 8012]}


@pytest.mark.parametrize("option_name", ["Color", "Taille d'été", "a__b"])
def test_any_option_name_can_be_asked_for(shop: Shop, option_name: str) -> None:
    node = variant_node(11, "S", available=2, selectedOptions=[{"name": option_name, "value": "Blue"}])
    given_product(shop, 1, node)

    assert ids(variants_buyable(shop, [1], option_name=option_name, option_value="Blue")) == {1: [8011]}
    assert variants_buyable(shop, [1], option_name=option_name, option_value="Red") == {}


def test_another_shop_s_stock_is_never_offered(shop: Shop, other_shop: Shop) -> None:
    given_product(other_shop, 1, variant(11, "M", 5))

    assert variants_buyable(shop, [1], option_value="M") == {}
