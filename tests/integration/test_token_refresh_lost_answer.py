"""A refresh whose answer is lost, against a live devstore: devstore keeps the used refresh token
good as Shopify does, and the app asks again with it instead of sending the merchant back."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from shop_app.admin_api import AdminClient
from shop_app.crypto import token_decrypt
from shop_app.models import Shop
from shop_app.shopify_http import ShopifyOverrideTransport
from shop_app.tokens import shop_access_token
from tests.live import Devstore, install

pytestmark = pytest.mark.integration


class LosesTheFirstRefreshAnswer(httpx.BaseTransport):
    """Lets the first refresh reach Shopify, then drops its answer as a read timeout would."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lost: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == "/admin/oauth/access_token" and not self.lost:
            response.read()
            self.lost.append(json.loads(response.content))
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def refresh_at_devstore(devstore: Devstore, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{devstore.url}/admin/oauth/access_token",
        json={
            "client_id": settings.SHOPIFY_API_KEY,
            "client_secret": settings.SHOPIFY_API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
        headers={"Host": devstore.shop, "Accept": "application/json"},
        timeout=10,
    )


def test_a_lost_refresh_answer_is_recovered_with_the_same_refresh_token(
    devstore: Devstore, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an installed shop whose token is due, and a network that loses the refresh's answer
    shop = install(devstore)
    stored_refresh = token_decrypt(shop.refresh_token_encrypted)
    Shop.objects.filter(pk=shop.pk).update(access_token_expires_at=timezone.now() + timedelta(minutes=1))
    shop.refresh_from_db()
    network = LosesTheFirstRefreshAnswer(ShopifyOverrideTransport(devstore.url))
    monkeypatch.setattr(
        "shop_app.tokens.shopify_http_client", lambda: httpx.Client(transport=network, timeout=10)
    )
    monkeypatch.setattr("shop_app.tokens.REFRESH_RETRY_DELAYS", (0.1, 0.2))

    token = shop_access_token(shop)

    # Then devstore rotated the tokens twice, and the app holds the second pair, which works
    assert len(network.lost) == 1
    assert token != network.lost[0]["access_token"]
    shop.refresh_from_db()
    assert shop.reauthorization_required_at is None
    assert (
        AdminClient(shop).graphql("{ shop { myshopifyDomain } }")["shop"]["myshopifyDomain"] == devstore.shop
    )
    # And the lost pair is retired, as is (now that its replacement is in use) the refresh token
    # the app sent twice
    assert refresh_at_devstore(devstore, network.lost[0]["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh_at_devstore(devstore, stored_refresh).json()["error"] == "invalid_grant"
