"""Storefront pages with the app's theme extension, checkout, the app proxy and the admin page."""

from __future__ import annotations

import hashlib
import hmac
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import jwt
from starlette.testclient import TestClient

from devstore.db import Row
from tests.devstore.conftest import API_KEY, API_SECRET, SHOP, Receiver


def _sign_in(client: TestClient, customer: Row) -> None:
    response = client.get("/account/login", params={"email": customer["email"]}, follow_redirects=False)
    assert response.status_code == 303


def test_a_product_page_renders_the_apps_block_and_embed(
    client: TestClient, product: Row, customer: Row
) -> None:
    # Given a signed-in shopper
    _sign_in(client, customer)

    # When they open a product
    page = client.get(f"/products/{product['handle']}").text

    # Then the app block renders with its default settings, translations, asset url and objects
    assert 'class="shopify-block shopify-app-block"' in page
    assert "<h3>Picked for you</h3>" in page
    assert 'data-limit="4"' in page
    assert f'data-customer="{customer["id"]}"' in page
    assert f'data-product="{product["id"]}"' in page
    assert "For you, Ana" in page
    assert "/extensions-assets/omakase-theme/assets/recs.js" in page
    # and the app embed sits in the body
    assert 'id="omakase-loyalty" data-logged-in="true"' in page


def test_blocks_follow_enabled_on_and_assets_are_served(client: TestClient, shop: Row) -> None:
    client.post("/_devstore/shops", json={"domain": SHOP})

    home = client.get("/").text
    asset = client.get("/extensions-assets/omakase-theme/assets/recs.js")

    assert "Popular right now" in home  # enabled on index, signed out
    assert asset.status_code == 200
    assert "omakase recs" in asset.text


def test_checkout_turns_the_cart_into_an_order_with_webhooks(
    client: TestClient, receiver: Receiver, customer: Row, variant_ids: list[int]
) -> None:
    _sign_in(client, customer)
    client.post(
        "/cart/add",
        content=f"id={variant_ids[2]}&quantity=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    done = client.post(
        "/checkout", content="discount=", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert 'Order <strong class="order-name">#1001</strong>' in done.text
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})
    assert "orders/create" in receiver.topics()
    created = next(r for r in receiver.requests if r.headers["X-Shopify-Topic"] == "orders/create")
    assert created.json()["customer"]["id"] == customer["id"]
    assert created.json()["line_items"][0]["quantity"] == 2


def test_the_app_proxy_forwards_signed_and_renders_liquid_in_the_layout(
    client: TestClient, receiver: Receiver, customer: Row
) -> None:
    # Given the app answers the proxy with Liquid
    receiver.answers = [
        (200, "application/liquid", "<p id='proxied'>Hello {{ customer.first_name }} at {{ shop.name }}</p>")
    ]
    _sign_in(client, customer)

    # When the shopper opens /apps/omakase/recommendations?limit=3
    page = client.get("/apps/omakase/recommendations", params={"limit": "3"})

    # Then the app got the request at its proxy url, signed as Shopify signs it
    forwarded = receiver.wait_for(1)[0]
    url = urlsplit(forwarded.path)
    assert url.path == "/proxy/recommendations"
    pairs = parse_qsl(url.query, keep_blank_values=True)
    query = dict(pairs)
    assert query["shop"] == SHOP
    assert query["logged_in_customer_id"] == str(customer["id"])
    assert query["path_prefix"] == "/apps/omakase"
    assert query["limit"] == "3"
    message = "".join(sorted(f"{k}={v}" for k, v in pairs if k != "signature"))
    assert query["signature"] == hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert "cookie" not in {k.lower() for k in forwarded.headers}
    # and the Liquid answer was rendered inside the theme
    assert page.status_code == 200
    assert "<p id='proxied'>Hello Ana at" in page.text
    assert "<header>" in page.text


def test_a_non_liquid_proxy_answer_passes_through_without_cookies(
    client: TestClient, receiver: Receiver, shop: Row
) -> None:
    receiver.answers = [(200, "application/json", '{"items": []}')]

    answer = client.get("/apps/omakase/api/items")

    assert answer.json() == {"items": []}
    assert "set-cookie" not in answer.headers
    query = dict(parse_qsl(urlsplit(receiver.requests[0].path).query, keep_blank_values=True))
    assert query["logged_in_customer_id"] == ""


def test_the_proxy_keeps_no_cookie_of_the_app_from_one_request_to_the_next(
    client: TestClient, receiver: Receiver, customer: Row
) -> None:
    # Given the app answered a shopper's request through the proxy with a cookie
    client.get("/apps/omakase/api/items")

    # When another request goes through the proxy (one client forwards them all)
    _sign_in(client, customer)
    client.get("/apps/omakase/api/items")

    # Then the app never sees its cookie back
    _, second = receiver.wait_for(2)
    assert "cookie" not in {k.lower() for k in second.headers}, second.headers


def test_the_admin_frames_the_app_with_signed_launch_parameters(client: TestClient, shop: Row) -> None:
    page = client.get("/admin/apps/omakase").text

    src = unescape(re.search(r'<iframe id="app-iframe"[^>]* src="([^"]+)"', page).group(1))
    params = dict(parse_qsl(urlsplit(src).query))
    assert params["embedded"] == "1"
    assert params["shop"] == SHOP
    assert params["host"] == "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvb21ha2FzZS1kZW1v"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    claims = jwt.decode(params["id_token"], API_SECRET, algorithms=["HS256"], audience=API_KEY)
    assert claims["dest"] == f"https://{SHOP}"


def test_app_bridge_and_polaris_stand_ins_are_served(client: TestClient) -> None:
    bridge = client.get("/cdn/shopifycloud/app-bridge.js")
    polaris = client.get("/cdn/shopifycloud/polaris.js")
    fresh = client.post("/admin/apps/omakase/session-token").json()

    assert "shopify-api-key" in bridge.text
    assert "idToken" in bridge.text
    assert "Authorization" in bridge.text
    assert "s-page" in polaris.text
    assert "s-button" in polaris.text
    assert (
        jwt.decode(fresh["session_token"], API_SECRET, algorithms=["HS256"], audience=API_KEY)["sub"] == "1"
    )
