from collections.abc import Callable

import pytest
from django.test import Client, override_settings

from shop_app.models import Shop
from tests.conftest import client_bearing, make_session_token

RETRY = "X-Shopify-Retry-Invalid-Session-Request"
ClientFor = Callable[[Shop], Client]


def test_a_valid_session_token_reads_its_own_shop(shop: Shop, api_client_for: ClientFor) -> None:
    response = api_client_for(shop).get("/api/shop")

    assert response.status_code == 200
    assert response.json()["shop"]["domain"] == shop.domain


def test_shop_b_never_sees_shop_a(shop: Shop, other_shop: Shop, api_client_for: ClientFor) -> None:
    response = api_client_for(other_shop).get("/api/shop")

    assert response.json()["shop"]["domain"] == other_shop.domain
    assert shop.domain not in response.content.decode()


@pytest.mark.parametrize(
    "claims",
    [
        {"lifetime": -30},  # expired, beyond the 10 s leeway
        {"aud": "someone-elses-app"},
        {"secret": "not-our-secret"},
        {"dest": "https://evil.example.com", "iss": "https://evil.example.com/admin"},
        {"iss": "https://other-shop.myshopify.com/admin"},
        {"nbf": 4102444800},  # not valid before 2100
    ],
)
def test_a_bad_session_token_gets_401_with_the_retry_header(shop: Shop, claims: dict[str, object]) -> None:
    token = make_session_token(shop.domain, **claims)  # type: ignore[arg-type]

    response = client_bearing(token).get("/api/shop")

    assert response.status_code == 401
    assert response[RETRY] == "1"


def test_a_token_just_past_expiry_is_still_accepted_within_the_leeway(shop: Shop) -> None:
    token = make_session_token(shop.domain, lifetime=-5)

    assert client_bearing(token).get("/api/shop").status_code == 200


def test_no_token_at_all_is_401(shop: Shop, client: Client) -> None:
    response = client.get("/api/shop")

    assert response.status_code == 401
    assert response[RETRY] == "1"


def test_a_token_for_an_uninstalled_shop_is_refused(shop: Shop, api_client_for: ClientFor) -> None:
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=shop.installed_at)

    assert api_client_for(shop).get("/api/shop").status_code == 401


def test_a_token_for_a_shop_we_do_not_know_is_refused(db: None) -> None:
    token = make_session_token("unknown-shop.myshopify.com")

    assert client_bearing(token).get("/api/shop").status_code == 401


@override_settings(SHOPIFY_API_SECRET="rotated-secret", SHOPIFY_API_SECRET_PREVIOUS="omakase-dev-secret")
def test_tokens_signed_with_the_previous_secret_work_during_a_rotation(shop: Shop) -> None:
    token = make_session_token(shop.domain, secret="omakase-dev-secret")

    assert client_bearing(token).get("/api/shop").status_code == 200


def test_app_home_without_a_session_token_sends_the_browser_to_the_patch_page(
    client: Client, db: None
) -> None:
    response = client.get("/", {"shop": "first-shop.myshopify.com", "embedded": "1"})

    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/auth/patch-id-token?")
    assert "shopify-reload=" in response["Location"]


def test_the_patch_page_loads_app_bridge_and_may_be_framed_only_by_the_shop(client: Client, db: None) -> None:
    response = client.get(
        "/auth/patch-id-token", {"shop": "first-shop.myshopify.com", "shopify-reload": "/?x=1"}
    )

    assert response.status_code == 200
    assert b"app-bridge.js" in response.content
    assert (
        "frame-ancestors https://first-shop.myshopify.com https://admin.shopify.com"
        in response["Content-Security-Policy"]
    )
