import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from shop_app.models import Shop
from shop_app.oauth import (
    STATE_COOKIE,
    CallbackRefused,
    oauth_callback_verify,
    query_hmac_is_valid,
    query_signature,
)

# Shopify's published OAuth examples, signed with the secret "hush".
SHOPIFY_EXAMPLE_WITH_STATE = {
    "code": "0907a61c0c8d55e99db179b68161bc00",
    "hmac": "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
    "shop": "some-shop.myshopify.com",
    "state": "0.6784241404160823",
    "timestamp": "1337178173",
}
SHOPIFY_EXAMPLE_WITHOUT_STATE = {
    "code": "0907a61c0c8d55e99db179b68161bc00",
    "hmac": "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20",
    "shop": "some-shop.myshopify.com",
    "timestamp": "1337178173",
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@override_settings(SHOPIFY_API_SECRET="hush")
@pytest.mark.parametrize("example", [SHOPIFY_EXAMPLE_WITH_STATE, SHOPIFY_EXAMPLE_WITHOUT_STATE])
def test_shopifys_published_hmac_examples_verify(example: dict[str, str]) -> None:
    assert query_signature(example, "hush") == example["hmac"]
    assert query_hmac_is_valid(example)


@override_settings(SHOPIFY_API_SECRET="hush")
def test_a_changed_parameter_breaks_the_hmac() -> None:
    tampered = {**SHOPIFY_EXAMPLE_WITH_STATE, "shop": "other-shop.myshopify.com"}

    assert not query_hmac_is_valid(tampered)
    assert not query_hmac_is_valid({k: v for k, v in SHOPIFY_EXAMPLE_WITH_STATE.items() if k != "hmac"})


@override_settings(SHOPIFY_API_SECRET="new-secret", SHOPIFY_API_SECRET_PREVIOUS="hush")
def test_the_previous_secret_still_verifies_during_a_rotation() -> None:
    assert query_hmac_is_valid(SHOPIFY_EXAMPLE_WITH_STATE)


def signed_callback(
    shop: str = "some-shop.myshopify.com", state: str = "nonce-1", **extra: str
) -> dict[str, str]:
    params = {"code": "abc", "shop": shop, "state": state, "timestamp": str(int(time.time())), **extra}
    params["hmac"] = query_signature(params, settings.SHOPIFY_API_SECRET)
    return params


def test_a_good_callback_names_its_shop() -> None:
    assert oauth_callback_verify(signed_callback(), "nonce-1") == "some-shop.myshopify.com"


@pytest.mark.parametrize(
    ("params", "expected_state", "reason"),
    [
        ({**signed_callback(), "code": "changed"}, "nonce-1", "bad hmac"),
        (signed_callback(), "another-browsers-nonce", "state"),
        (signed_callback(), None, "state"),
        (signed_callback(timestamp="1337178173"), "nonce-1", "timestamp"),
        (signed_callback(shop="evil.example.com"), "nonce-1", "not a shop domain"),
    ],
)
def test_a_bad_callback_is_refused(params: dict[str, str], expected_state: str | None, reason: str) -> None:
    with pytest.raises(CallbackRefused, match=reason):
        oauth_callback_verify(params, expected_state)


def test_a_replayed_callback_is_refused() -> None:
    params = signed_callback()
    oauth_callback_verify(params, "nonce-1")

    with pytest.raises(CallbackRefused, match="already used"):
        oauth_callback_verify(params, "nonce-1")


def test_install_redirects_to_the_grant_screen_with_a_state_bound_to_the_browser(
    client: Client, db: None
) -> None:
    response = client.get("/auth/install", {"shop": "some-shop.myshopify.com"})

    assert response.status_code == 302
    assert "/admin/oauth/authorize?" in response["Location"]
    assert "client_id=" in response["Location"]
    assert "redirect_uri=" in response["Location"]
    cookie = response.cookies[STATE_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_install_refuses_a_bad_shop(client: Client, db: None) -> None:
    assert client.get("/auth/install", {"shop": "evil.com"}).status_code == 400


def test_a_forged_callback_changes_nothing(client: Client, db: None) -> None:
    # Given a browser that started an install
    client.get("/auth/install", {"shop": "some-shop.myshopify.com"})
    params = signed_callback()
    params["hmac"] = "0" * 64

    response = client.get("/auth/callback", params)

    assert response.status_code == 403
    assert not Shop.objects.exists()


def test_a_callback_without_this_browsers_state_changes_nothing(db: None) -> None:
    response = Client().get("/auth/callback", signed_callback())

    assert response.status_code == 403
    assert not Shop.objects.exists()


def test_a_signed_link_for_a_shop_that_never_finished_installing_goes_to_install(
    client: Client, db: None
) -> None:
    # Given a shop row left by a token exchange that failed (never installed)
    Shop.objects.create(domain="some-shop.myshopify.com")
    params = {"shop": "some-shop.myshopify.com", "timestamp": str(int(time.time()))}
    params["hmac"] = query_signature(params, settings.SHOPIFY_API_SECRET)

    response = client.get("/", params)

    assert response.status_code == 302
    assert response["Location"] == "/auth/install?shop=some-shop.myshopify.com"
