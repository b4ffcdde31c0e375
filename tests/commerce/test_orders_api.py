from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.test import Client

from commerce.models import Order
from shop_app.models import Shop


def make_order(shop: Shop, shopify_id: int, name: str, days_ago: int) -> Order:
    created = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=days_ago)
    return Order.objects.create(
        shop=shop,
        shopify_id=shopify_id,
        name=name,
        email="shopper@example.com",
        currency="USD",
        total_price=Decimal("42.00"),
        subtotal_price=Decimal("40.00"),
        total_discounts=Decimal("0"),
        total_tax=Decimal("2.00"),
        financial_status="paid",
        shopify_created_at=created,
        shopify_updated_at=created,
    )


def test_recent_orders_are_newest_first_and_limited(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    for n in range(5):
        make_order(shop, 100 + n, f"#100{n}", days_ago=n)

    response = api_client_for(shop).get("/api/orders", {"limit": 3})

    assert response.status_code == 200
    assert [order["name"] for order in response.json()["results"]] == ["#1000", "#1001", "#1002"]
    assert response.json()["results"][0]["total_price"] == "42.00"


def test_another_shops_orders_are_never_listed(
    shop: Shop, other_shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    make_order(shop, 1, "#1001", days_ago=0)

    response = api_client_for(other_shop).get("/api/orders")

    assert response.json() == {"results": []}


def test_a_limit_out_of_range_is_a_clear_400(shop: Shop, api_client_for: Callable[[Shop], Client]) -> None:
    response = api_client_for(shop).get("/api/orders", {"limit": 1000})

    assert response.status_code == 400
    assert "limit" in response.json()
