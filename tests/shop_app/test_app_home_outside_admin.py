"""Someone opens the app's address in a browser tab, outside the Shopify admin, with nothing that
says which shop: they get a page telling them where Omakase lives, not a bare "Bad Request"."""

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings

from shop_app.models import Shop
from tests.factories import ShopFactory

DEVSTORE = "http://127.0.0.1:8100"


def admin_links(content: bytes) -> list[str]:
    page = content.decode()
    return [unescape(part.split('"', 1)[0]) for part in page.split('href="')[1:]]


@pytest.mark.parametrize("query", [{}, {"shop": "not a shop"}, {"embedded": "1"}])
def test_the_bare_address_shows_a_page_pointing_to_the_shopify_admin(
    client: Client, db: None, query: dict[str, str]
) -> None:
    response = client.get("/", query, follow=True)

    # A page for a person who typed the address, not an error for an API client: 200, HTML
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Bad Request" not in page
    assert "Open Omakase from your Shopify admin" in page
    # ... and, in production, no link to a stand-in admin
    assert admin_links(response.content) == []


@override_settings(SHOPIFY_BASE_URL_OVERRIDE=DEVSTORE)
def test_in_development_the_page_links_to_devstore_s_admin_for_the_app(client: Client, db: None) -> None:
    ShopFactory(domain="omakase-demo.myshopify.com")

    response = client.get("/")

    [link] = admin_links(response.content)
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}" == DEVSTORE
    assert url.path == "/admin/apps/omakase-dev-key"
    assert parse_qs(url.query) == {"shop": ["omakase-demo.myshopify.com"]}


@override_settings(SHOPIFY_BASE_URL_OVERRIDE=DEVSTORE)
def test_in_development_before_any_install_the_link_opens_devstore_s_own_shop(
    client: Client, db: None
) -> None:
    response = client.get("/")

    assert admin_links(response.content) == [f"{DEVSTORE}/admin/apps/omakase-dev-key"]


def test_an_unsigned_shop_without_a_token_still_goes_to_the_patch_page(client: Client, shop: Shop) -> None:
    # (as inside the admin's iframe before App Bridge has a token: unchanged)
    response = client.get("/", {"shop": shop.domain})

    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/auth/patch-id-token?")


def test_a_bad_token_without_a_shop_is_still_sent_for_a_fresh_one(client: Client, db: None) -> None:
    response = client.get("/", {"id_token": "not-a-token"})

    assert response.status_code == 302
    assert "/auth/patch-id-token?" in response["Location"]
