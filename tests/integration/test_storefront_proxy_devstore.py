"""End to end: a shopper on devstore's storefront opens /apps/omakase/...; devstore's app proxy
signs and forwards it, as Shopify does, to the live app's /proxy/... door."""

from typing import Any

import httpx
import pytest

from shop_app.models import Shop
from tests.live import Devstore, install

pytestmark = pytest.mark.integration


@pytest.fixture
def installed(devstore: Devstore, transactional_db: None) -> Shop:
    """The shop, installed the real way: the merchant opened the app in devstore's admin."""
    return install(devstore)


def test_a_signed_in_shopper_reaches_the_app_through_the_storefront_proxy(
    devstore: Devstore, installed: Shop
) -> None:
    # Given a customer of the shop, signed in to its storefront
    customer = devstore.control("POST", "/customers", {"email": "mika@example.jp", "first_name": "Mika"})[
        "customer"
    ]
    with httpx.Client(base_url=devstore.url, timeout=30) as browser:
        browser.get("/account/login", params={"email": "mika@example.jp"})

        # When the storefront calls the app through the proxy
        answer = browser.get("/apps/omakase/ping")

    # Then the app verified the forward and knows the shop and the customer
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"shop": devstore.shop, "customer": customer["id"]}
    assert answer.headers["cache-control"] == "private, no-store"


def test_a_guest_reaches_the_app_as_no_one(devstore: Devstore, installed: Shop) -> None:
    answer = httpx.get(f"{devstore.url}/apps/omakase/ping", timeout=30)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"shop": devstore.shop, "customer": None}


def test_an_unknown_proxy_address_is_a_plain_404_on_the_storefront(
    devstore: Devstore, installed: Shop, settings: Any
) -> None:
    settings.DEBUG = True  # as in development, where Django would list every URL of the app
    for path in ("/apps/omakase", "/apps/omakase/", "/apps/omakase/no-such-thing"):
        answer = httpx.get(f"{devstore.url}{path}", timeout=30)

        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/plain"), path
        assert "URLconf" not in answer.text


def test_a_shop_that_has_not_installed_the_app_gets_nothing(
    devstore: Devstore, transactional_db: None
) -> None:
    answer = httpx.get(f"{devstore.url}/apps/omakase/ping", timeout=30)

    assert answer.status_code == 401
    assert answer.content == b""
