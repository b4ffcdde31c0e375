"""Prices on the storefront: Shopify's money filters over cents, in the shop's currency format."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from devstore import catalog
from devstore.context import Devstore
from devstore.db import Row
from devstore.storefront import drops
from devstore.storefront.money import money_format, money_format_for
from devstore.storefront.rendering import Renderer
from tests.devstore.conftest import Receiver

UK_SHOP = "uk-shop.myshopify.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${{amount}}", "$1,134.65"),
        ("${{ amount }}", "$1,134.65"),
        ("{{amount_no_decimals}}", "1,135"),
        ("€{{amount_with_comma_separator}}", "€1.134,65"),
        ("{{amount_no_decimals_with_comma_separator}} kr", "1.135 kr"),
        ("{{amount_with_apostrophe_separator}} CHF", "1'134.65 CHF"),
        ("{{amount_with_space_separator}}", "1 134,65"),
        ("{{amount_no_decimals_with_space_separator}}", "1 135"),
        ("{{amount_with_period_and_space_separator}}", "1 134.65"),
    ],
)
def test_money_format_writes_cents_as_each_placeholder_says(template: str, expected: str) -> None:
    assert money_format(113465, template) == expected


def test_money_format_takes_what_liquid_hands_it() -> None:
    assert money_format(13600, "${{amount}}") == "$136.00"
    assert money_format("13600", "${{amount}}") == "$136.00"
    assert money_format(5, "${{amount}}") == "$0.05"
    assert money_format(None, "${{amount}}") == ""
    assert money_format("free", "${{amount}}") == "free"
    assert money_format(13600, "${{amount}}", trailing_zeros=False) == "$136"
    assert money_format(13650, "${{amount}}", trailing_zeros=False) == "$136.50"


def test_each_currency_has_shopifys_default_format() -> None:
    assert money_format_for("USD") == "${{amount}}"
    assert money_format_for("GBP") == "£{{amount}}"
    assert money_format_for("EUR") == "€{{amount_with_comma_separator}}"
    assert money_format_for("XAF") == "{{amount}} XAF"


@pytest.mark.parametrize(
    ("currency", "source", "expected"),
    [
        ("USD", "{{ 13600 | money }}", "$136.00"),
        ("USD", "{{ 13600 | money_with_currency }}", "$136.00 USD"),
        ("USD", "{{ 13600 | money_without_currency }}", "136.00"),
        ("USD", "{{ 13600 | money_without_trailing_zeros }}", "$136"),
        ("GBP", "{{ 13600 | money }}", "£136.00"),
        ("EUR", "{{ 123456 | money }}", "€1.234,56"),
        ("EUR", "{{ 123456 | money_with_currency }}", "€1.234,56 EUR"),
        ("EUR", "{{ 123456 | money_without_currency }}", "1.234,56"),
        ("JPY", "{{ 123456 | money }}", "¥1,235"),
    ],
)
def test_the_money_filters_follow_the_shops_currency(
    shop: Row, currency: str, source: str, expected: str
) -> None:
    context = {"shop": drops.shop_drop({**shop, "currency": currency})}

    assert Renderer([], "http://testserver/cdn").string(source, context) == expected


def test_the_thank_you_page_prints_the_order_total_as_money(
    client: TestClient, ds: Devstore, receiver: Receiver, customer: Row, variant_ids: list[int]
) -> None:
    client.get("/account/login", params={"email": customer["email"]})
    client.post("/cart/add", content=f"id={variant_ids[2]}&quantity=2", headers=FORM)

    done = client.post("/checkout", content="discount=", headers=FORM)

    total = ds.db.scalar("SELECT total_price FROM orders")
    assert f"Total ${total}." in done.text
    assert "Total 12000." not in done.text


def test_a_pound_shop_prices_its_pages_in_pounds(client: TestClient, ds: Devstore) -> None:
    client.post("/_devstore/shops", json={"domain": UK_SHOP, "currency": "GBP"})
    uk = ds.db.one("SELECT * FROM shops WHERE domain = ?", (UK_SHOP,))
    assert uk is not None
    product = catalog.product_create(
        ds.db,
        uk["id"],
        title="Tweed Cap",
        variants=[{"price": "1250.00", "sku": "CAP", "inventory_quantity": 3, "options": []}],
    )
    host = {"Host": UK_SHOP}

    page = client.get(f"/products/{product['handle']}", headers=host).text
    home = client.get("/", headers=host).text
    variant_id = catalog.product_variants(ds.db, product["id"])[0]["id"]
    client.post("/cart/add", content=f"id={variant_id}&quantity=2", headers={**FORM, **host})
    cart = client.get("/cart", headers=host).text
    done = client.post("/checkout", content="email=shopper%40example.com", headers={**FORM, **host}).text

    assert '<p class="price">£1,250.00</p>' in page
    assert "£1,250.00" in home
    assert "Total: £2,500.00" in cart
    total = ds.db.scalar("SELECT total_price FROM orders WHERE shop_id = ?", (uk["id"],))
    assert f"Total £{float(total):,.2f}." in done
    assert "$" not in page.split("<main", 1)[1]
