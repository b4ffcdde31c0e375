from collections.abc import Callable

from django.test import Client

from commerce.ingest import product_delete
from shop_app.models import Shop
from tests.commerce.catalog_nodes import given_product, variant_node


def test_products_are_listed_by_title_with_their_variants_and_stock(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    given_product(shop, 2, variant_node(21, "One size", available=None), title="Wool Scarf")
    given_product(
        shop, 1, variant_node(11, "S", available=3), variant_node(12, "M", available=0), title="Merino Crew"
    )

    response = api_client_for(shop).get("/api/products")

    assert response.status_code == 200
    crew, scarf = response.json()["results"]
    assert crew == {
        "shopify_id": 1,
        "title": "Merino Crew",
        "handle": "merino-crew",
        "product_type": "Knitwear",
        "vendor": "Omakase Knits",
        "tags": ["merino", "winter"],
        "status": "active",
        "image_url": "https://cdn.example/merino-crew.jpg",
        "shopify_updated_at": "2026-01-05T10:00:00Z",
        "available": 3,
        "variants": [
            {
                "shopify_id": 8011,
                "title": "S / Navy",
                "sku": "CREW-S-NAVY",
                "options": {"Size": "S", "Color": "Navy"},
                "price": "98.00",
                "compare_at_price": None,
                "currency": "USD",
                "available": 3,
            },
            {
                "shopify_id": 8012,
                "title": "M / Navy",
                "sku": "CREW-M-NAVY",
                "options": {"Size": "M", "Color": "Navy"},
                "price": "98.00",
                "compare_at_price": None,
                "currency": "USD",
                "available": 0,
            },
        ],
    }
    assert scarf["available"] is None


def test_q_matches_title_handle_vendor_type_and_sku_in_any_case(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    given_product(shop, 1, title="Merino Crew")
    given_product(shop, 2, title="Linen Shirt", vendor="Atelier Nord")
    given_product(shop, 3, title="Rain Shell", productType="Outerwear")
    given_product(shop, 4, variant_node(41, "M", sku="SOCK-TRIO-M"), title="Sock Trio")
    api = api_client_for(shop)

    def titles(q: str) -> list[str]:
        return [product["title"] for product in api.get("/api/products", {"q": q}).json()["results"]]

    assert titles("MERINO") == ["Merino Crew"]
    assert titles("linen-shirt") == ["Linen Shirt"]
    assert titles("atelier") == ["Linen Shirt"]
    assert titles("outerwear") == ["Rain Shell"]
    assert titles("trio-m") == ["Sock Trio"]
    assert titles("nothing like it") == []


def test_the_limit_is_kept_and_deleted_products_are_not_listed(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    for number in range(1, 6):
        given_product(shop, number, title=f"Product {number}")
    product_delete(shop, 1)

    response = api_client_for(shop).get("/api/products", {"limit": 3})

    assert [product["title"] for product in response.json()["results"]] == [
        "Product 2",
        "Product 3",
        "Product 4",
    ]


def test_another_shop_s_products_are_never_listed(
    shop: Shop, other_shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    given_product(shop, 1, title="Merino Crew")

    assert api_client_for(other_shop).get("/api/products").json() == {"results": []}
    assert api_client_for(other_shop).get("/api/products", {"q": "merino"}).json() == {"results": []}


def test_a_limit_out_of_range_is_a_clear_400(shop: Shop, api_client_for: Callable[[Shop], Client]) -> None:
    for limit in (0, 101, "many"):
        response = api_client_for(shop).get("/api/products", {"limit": limit})

        assert response.status_code == 400
        assert "limit" in response.json()


def test_without_a_session_token_nothing_is_listed(shop: Shop, client: Client) -> None:
    given_product(shop, 1, title="Merino Crew")

    response = client.get("/api/products")

    assert response.status_code == 401
    assert b"Merino" not in response.content
