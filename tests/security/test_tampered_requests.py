"""Requests that did not come, unchanged, from Shopify or from the shop's storefront are refused:
every app-proxy route (listed from the URLconf) with its signed query tampered, the web pixel's
door with a key or origin that is not the shop's, and webhooks whose body or signature changed.
Each refusal leaves the shop's rows as they were."""

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from personalize.pixel import pixel_settings_for
from shop_app.models import Shop
from shop_app.proxy import PROXY_ROUTE
from tests.security.conftest import rows_of
from tests.storefront import proxy_url, signed_proxy_query
from tests.webhooks.conftest import payload, sign, webhook_headers
from webhooks.models import WebhookEvent

CUSTOMER = 7001
Pairs = list[tuple[str, str]]


def proxy_routes() -> list[str]:
    """Every storefront route under the proxy, but the catch-all 404."""
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith(f"{PROXY_ROUTE}/") and pattern.name != "proxy_not_found":
                found.append(route.removeprefix(f"{PROXY_ROUTE}/"))

    walk(get_resolver().url_patterns, "")
    return sorted(found)


ROUTES = proxy_routes()


def replaced(pairs: Pairs, key: str, value: str) -> Pairs:
    return [(name, value if name == key else old) for name, old in pairs]


# Each takes the query Shopify would forward (signed, for CUSTOMER of the shop) and tampers with it.
TAMPERINGS: dict[str, Callable[[Pairs, Shop, Shop], Pairs]] = {
    "signature changed": lambda pairs, shop, other: [
        (key, (("0" if value[0] != "0" else "1") + value[1:]) if key == "signature" else value)
        for key, value in pairs
    ],
    "signature missing": lambda pairs, shop, other: [(k, v) for k, v in pairs if k != "signature"],
    "parameter added": lambda pairs, shop, other: [("admin", "1"), *pairs],
    "customer changed": lambda pairs, shop, other: replaced(pairs, "logged_in_customer_id", "7002"),
    "customer added to a guest's": lambda pairs, shop, other: replaced(
        signed_proxy_query(shop.domain), "logged_in_customer_id", str(CUSTOMER)
    ),
    "shop changed": lambda pairs, shop, other: replaced(pairs, "shop", other.domain),
    "timestamp changed": lambda pairs, shop, other: replaced(pairs, "timestamp", str(int(time.time()) - 5)),
    "timestamp old, signed": lambda pairs, shop, other: signed_proxy_query(
        shop.domain, customer_id=CUSTOMER, timestamp=int(time.time()) - 3600
    ),
    "timestamp ahead, signed": lambda pairs, shop, other: signed_proxy_query(
        shop.domain, customer_id=CUSTOMER, timestamp=int(time.time()) + 3600
    ),
    "signed with another secret": lambda pairs, shop, other: signed_proxy_query(
        shop.domain, customer_id=CUSTOMER, secret="another-apps-secret"
    ),
    "shop repeated": lambda pairs, shop, other: [*pairs, ("shop", shop.domain)],
    "customer repeated": lambda pairs, shop, other: [*pairs, ("logged_in_customer_id", "7002")],
}


def test_the_proxy_routes_are_read_from_the_urlconf() -> None:
    assert {"ping", "profile", "loyalty/redeem", "newsletters/subscriptions", "events"} <= set(ROUTES)


@pytest.mark.parametrize("route", ROUTES)
def test_a_request_signed_as_shopify_signs_it_passes_the_door(client: Client, shop: Shop, route: str) -> None:
    """The control: each route lets the untampered request in (for one method at least), so the
    refusals below are the tampering's doing."""
    url = proxy_url(route, signed_proxy_query(shop.domain, customer_id=CUSTOMER))

    statuses = {
        client.get(url).status_code,
        client.post(url, data="{}", content_type="application/json").status_code,
    }

    assert statuses - {401, 405}, f"/proxy/{route} answered {statuses}"


@pytest.mark.parametrize("tampering", TAMPERINGS)
@pytest.mark.parametrize("route", ROUTES)
def test_a_tampered_proxy_request_is_refused_and_changes_nothing(
    client: Client, shop: Shop, other_shop: Shop, route: str, tampering: str
) -> None:
    before, other_before = rows_of(shop), rows_of(other_shop)
    query = TAMPERINGS[tampering](signed_proxy_query(shop.domain, customer_id=CUSTOMER), shop, other_shop)
    url = proxy_url(route, query)

    answers = [
        client.get(url),
        client.post(url, data=json.dumps({"notice_version": "1"}), content_type="application/json"),
    ]

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {401, 405}, f"/proxy/{route} ({tampering}) answered {statuses}"
    assert 401 in statuses
    # A bare refusal: nothing to probe with
    assert all(answer.content == b"" for answer in answers if answer.status_code == 401)
    assert rows_of(shop) == before
    assert rows_of(other_shop) == other_before


# --- The web pixel's door ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def empty_rate_counters() -> None:
    cache.clear()


def pixel_batch(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "customer": None,
        "events": [
            {
                "id": "event-1",
                "name": "product_viewed",
                "client_id": "browser-1",
                "at": timezone.now().isoformat(),
                "product_id": "11",
            }
        ],
    }


def post_pixel(client: Client, body: Any, origin: str | None) -> Any:
    headers = {"Origin": origin} if origin is not None else {}
    return client.post(
        "/pixel/events", data=json.dumps(body), content_type="application/json", headers=headers
    )


def test_the_pixels_own_batch_from_its_storefront_is_taken(client: Client, shop: Shop) -> None:
    key = pixel_settings_for(shop).key

    assert post_pixel(client, pixel_batch(key), f"https://{shop.domain}").status_code == 204


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown key", 404),
        ("no key", 404),
        ("another shop's key", 403),
        ("another shop's origin", 403),
        ("a site's origin", 403),
        ("no origin", 403),
        ("origin over http", 403),
        ("origin with a path-like suffix", 403),
    ],
)
def test_a_pixel_batch_with_a_key_or_origin_not_the_shops_is_refused_and_nothing_stored(
    client: Client, shop: Shop, other_shop: Shop, case: str, expected: int
) -> None:
    key, other_key = pixel_settings_for(shop).key, pixel_settings_for(other_shop).key
    origin = f"https://{shop.domain}"
    body = pixel_batch(key)
    if case == "unknown key":
        body["key"] = key[:-1] + ("A" if key[-1] != "A" else "B")
    elif case == "no key":
        del body["key"]
    elif case == "another shop's key":
        body["key"] = other_key
    elif case == "another shop's origin":
        origin = f"https://{other_shop.domain}"
    elif case == "a site's origin":
        origin = "https://evil.example"
    elif case == "no origin":
        origin = None  # type: ignore[assignment]
    elif case == "origin over http":
        origin = f"http://{shop.domain}"
    elif case == "origin with a path-like suffix":
        origin = f"https://{shop.domain}.evil.example"
    before, other_before = rows_of(shop), rows_of(other_shop)

    response = post_pixel(client, body, origin)

    assert response.status_code == expected, response.content
    assert "Access-Control-Allow-Origin" not in response
    assert rows_of(shop) == before
    assert rows_of(other_shop) == other_before


def test_a_preflight_from_a_site_that_is_no_shops_storefront_is_refused(client: Client, shop: Shop) -> None:
    response = client.options("/pixel/events", headers={"Origin": "https://evil.example"})

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


# --- Webhooks ------------------------------------------------------------------------------------


def flipped(signature: str) -> str:
    return ("A" if signature[0] != "A" else "B") + signature[1:]


WEBHOOK_TAMPERINGS: dict[str, Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]] = {
    "signature changed": lambda body, headers: (
        body,
        {**headers, "X-Shopify-Hmac-Sha256": flipped(headers["X-Shopify-Hmac-Sha256"])},
    ),
    "signature missing": lambda body, headers: (
        body,
        {name: value for name, value in headers.items() if name != "X-Shopify-Hmac-Sha256"},
    ),
    "signature in hex": lambda body, headers: (
        body,
        {**headers, "X-Shopify-Hmac-Sha256": base64.b64decode(sign(body)).hex()},
    ),
    "signed with another secret": lambda body, headers: (
        body,
        {**headers, "X-Shopify-Hmac-Sha256": sign(body, "another-apps-secret")},
    ),
    "body changed": lambda body, headers: (body.replace(b'"total_price":"', b'"total_price":"1'), headers),
    "field added": lambda body, headers: (body[:-1] + b',"admin":true}', headers),
    "whitespace added": lambda body, headers: (body + b" ", headers),
    "body truncated": lambda body, headers: (body[:-1], headers),
    "empty body": lambda body, headers: (b"", headers),
}


@pytest.mark.parametrize("tampering", WEBHOOK_TAMPERINGS)
@pytest.mark.parametrize("topic", ["orders/create", "customers/redact", "app/uninstalled"])
def test_a_tampered_webhook_is_refused_and_nothing_is_stored(
    client: Client, shop: Shop, topic: str, tampering: str
) -> None:
    body = json.dumps(payload("orders_create"), separators=(",", ":")).encode()
    before = rows_of(shop)
    sent, headers = WEBHOOK_TAMPERINGS[tampering](body, webhook_headers(shop.domain, topic, body))

    response = client.post("/webhooks/", data=sent, content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert rows_of(shop) == before
