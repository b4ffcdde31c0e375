"""Session tokens Shopify would never issue are refused, however well signed: Shopify's live one
minute, so a token without an expiry, or one meant to live for hours, is a forgery or a leak."""

import time
import uuid

import jwt
import pytest
from django.conf import settings
from django.test import Client

from shop_app.models import Shop
from tests.conftest import client_bearing, make_session_token

RETRY = "X-Shopify-Retry-Invalid-Session-Request"


def token_without(shop: Shop, *missing: str) -> str:
    """A well-signed token for the shop with some of Shopify's time claims left out."""
    now = int(time.time())
    claims = {
        "iss": f"https://{shop.domain}/admin",
        "dest": f"https://{shop.domain}",
        "aud": settings.SHOPIFY_API_KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    for name in missing:
        del claims[name]
    return jwt.encode(claims, settings.SHOPIFY_API_SECRET, algorithm="HS256")


@pytest.mark.parametrize("missing", [("exp",), ("iat",), ("nbf",), ("exp", "nbf", "iat")])
def test_a_token_without_shopify_s_time_claims_is_refused_with_the_retry_header(
    shop: Shop, missing: tuple[str, ...]
) -> None:
    response = client_bearing(token_without(shop, *missing)).get("/api/shop")

    assert response.status_code == 401
    assert response[RETRY] == "1"


@pytest.mark.parametrize(
    "claims",
    [
        {"lifetime": 3600},  # an hour from now
        {"lifetime": 10 * 365 * 86400},  # ten years
        {"lifetime": 100, "iat": int(time.time()) - 200},  # issued long before, living 5 minutes
    ],
    ids=["an-hour", "ten-years", "five-minutes-from-issue"],
)
def test_a_token_meant_to_live_longer_than_shopify_s_is_refused(shop: Shop, claims: dict[str, int]) -> None:
    token = make_session_token(shop.domain, **claims)  # type: ignore[arg-type]

    response = client_bearing(token).get("/api/shop")

    assert response.status_code == 401
    assert response[RETRY] == "1"


def test_a_token_not_valid_yet_beyond_the_leeway_is_refused(shop: Shop) -> None:
    now = int(time.time())
    token = make_session_token(shop.domain, nbf=now + 30, iat=now, lifetime=60)

    assert client_bearing(token).get("/api/shop").status_code == 401


def test_a_token_as_shopify_issues_it_is_accepted(shop: Shop) -> None:
    now = int(time.time())
    token = make_session_token(shop.domain, iat=now, nbf=now, lifetime=60)

    assert client_bearing(token).get("/api/shop").status_code == 200


def test_a_document_load_with_a_never_expiring_token_installs_nothing(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a well-signed token without exp, for a shop we do not know yet
    exchanges: list[object] = []
    monkeypatch.setattr("shop_app.views.shop_install_from_session", exchanges.append)
    unknown = Shop(domain="new-shop.myshopify.com")

    # When App Home is opened with it
    response = client.get("/", {"shop": unknown.domain, "id_token": token_without(unknown, "exp")})

    # Then it is refused as today's bad tokens are, and no install or token exchange was attempted
    assert response.status_code == 401
    assert response[RETRY] == "1"
    assert exchanges == []
    assert not Shop.objects.filter(domain=unknown.domain).exists()
