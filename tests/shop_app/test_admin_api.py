"""The Admin GraphQL client's own logic (cost bucket, THROTTLED, 401 refresh), driven through a
recorded-answer HTTP transport. tests/integration covers the same against a live devstore."""

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from shop_app.admin_api import AdminApiError, AdminClient, Bucket
from shop_app.models import Shop
from shop_app.tokens import IssuedToken, ShopNotAuthorized, shop_access_token, shop_tokens_store


def cost(requested: int, available: float, maximum: float = 2000, restore: float = 100) -> dict[str, object]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


class FakeShopify:
    """Answers queued responses and records what was asked."""

    def __init__(self, answers: list[httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


@pytest.fixture
def installed(shop: Shop) -> Shop:
    cache.clear()
    shop_tokens_store(
        shop,
        IssuedToken(
            access_token="shpat_first",
            scopes="read_orders",
            expires_at=timezone.now() + timedelta(hours=1),
            refresh_token="shprt_first",
            refresh_token_expires_at=timezone.now() + timedelta(days=30),
        ),
    )
    return shop


def client_for(shop: Shop, fake: FakeShopify, sleeps: list[float], clock: Callable[[], float]) -> AdminClient:
    return AdminClient(
        shop, http_client=httpx.Client(transport=httpx.MockTransport(fake)), sleep=sleeps.append, clock=clock
    )


def test_data_comes_back_and_the_bucket_is_remembered(installed: Shop) -> None:
    fake = FakeShopify(
        [httpx.Response(200, json={"data": {"shop": {"name": "A"}}, "extensions": cost(2, 1998)})]
    )

    data = client_for(installed, fake, [], lambda: 1000.0).graphql("{ shop { name } }")

    assert data == {"shop": {"name": "A"}}
    assert fake.requests[0].headers["X-Shopify-Access-Token"] == "shpat_first"
    assert fake.requests[0].url.path.endswith("/graphql.json")
    bucket = cache.get(f"shopify-bucket:{installed.domain}")
    assert bucket == Bucket(available=1998, maximum=2000, restore_rate=100, observed_at=1000.0)


def test_it_waits_for_the_bucket_instead_of_running_into_throttled(installed: Shop) -> None:
    # Given a query that costs 500 and a bucket left with 100 points
    fake = FakeShopify(
        [
            httpx.Response(200, json={"data": {"a": 1}, "extensions": cost(500, 100)}),
            httpx.Response(200, json={"data": {"a": 2}, "extensions": cost(500, 0)}),
        ]
    )
    sleeps: list[float] = []
    client = client_for(installed, fake, sleeps, lambda: 1000.0)
    client.graphql("{ big }")

    # When the same query runs again at once
    client.graphql("{ big }")

    # Then the client first waited (500 - 100) / 100 = 4 s for the bucket to refill
    assert sleeps == [4.0]


def test_throttled_waits_for_the_restore_and_retries(installed: Shop) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(300, 50),
    }
    fake = FakeShopify(
        [
            httpx.Response(200, json=throttled),
            httpx.Response(200, json={"data": {"ok": True}, "extensions": cost(300, 0)}),
        ]
    )
    sleeps: list[float] = []

    data = client_for(installed, fake, sleeps, lambda: 1000.0).graphql("{ q }")

    assert data == {"ok": True}
    assert sleeps == [2.5]  # (300 - 50) / 100
    assert len(fake.requests) == 2


def test_throttled_for_ever_gives_up_with_a_clear_error(installed: Shop) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(10, 0),
    }
    fake = FakeShopify([httpx.Response(200, json=throttled) for _ in range(10)])

    with pytest.raises(AdminApiError) as raised:
        client_for(installed, fake, [], lambda: 1000.0).graphql("{ q }")

    assert raised.value.code == "THROTTLED"
    assert len(fake.requests) == 6  # the first try and five waits


def test_graphql_errors_are_raised_with_their_messages(installed: Shop) -> None:
    fake = FakeShopify([httpx.Response(200, json={"errors": [{"message": "Field 'nope' doesn't exist"}]})])

    with pytest.raises(AdminApiError) as raised:
        client_for(installed, fake, [], lambda: 1000.0).graphql("{ nope }")

    assert raised.value.errors == [{"message": "Field 'nope' doesn't exist"}]


def test_a_401_refreshes_the_token_once_and_retries(installed: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    def shopify(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/admin/oauth/access_token":
            body = json.loads(request.content)
            assert body["grant_type"] == "refresh_token"
            assert body["refresh_token"] == "shprt_first"
            return httpx.Response(
                200,
                json={
                    "access_token": "shpat_second",
                    "scope": "read_orders",
                    "expires_in": 3600,
                    "refresh_token": "shprt_second",
                    "refresh_token_expires_in": 7776000,
                },
            )
        if request.headers["X-Shopify-Access-Token"] == "shpat_first":
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
        return httpx.Response(200, json={"data": {"ok": True}})

    transport = httpx.MockTransport(shopify)
    # The refresh goes through the app's own HTTP client: route it to the same fake Shopify.
    monkeypatch.setattr("shop_app.tokens.shopify_http_client", lambda: httpx.Client(transport=transport))
    client = AdminClient(installed, http_client=httpx.Client(transport=transport), sleep=lambda _: None)

    assert client.graphql("{ q }") == {"ok": True}
    installed.refresh_from_db()
    assert shop_access_token(installed) == "shpat_second"


def test_a_static_token_that_is_refused_marks_the_shop_for_reauthorization(shop: Shop) -> None:
    shop_tokens_store(shop, IssuedToken(access_token="shpat_static", scopes=""))
    fake = FakeShopify([httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})])

    with pytest.raises(ShopNotAuthorized):
        client_for(shop, fake, [], lambda: 1000.0).graphql("{ q }")

    shop.refresh_from_db()
    assert shop.reauthorization_required_at is not None
