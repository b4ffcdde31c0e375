"""A refresh whose answer is lost is asked again with the same refresh token; only Shopify's refusal
marks the shop as needing the merchant. Driven through a recorded-answer HTTP transport;
tests/integration covers the same against a live devstore."""

import json
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from django.utils import timezone

from shop_app.crypto import token_decrypt
from shop_app.models import Shop
from shop_app.tokens import (
    REFRESH_RETRY_DELAYS,
    IssuedToken,
    ShopNotAuthorized,
    TokenRefreshUnavailable,
    shop_access_token,
    shop_tokens_store,
)

NEW_PAIR = {
    "access_token": "shpat_second",
    "scope": "read_orders",
    "expires_in": 3600,
    "refresh_token": "shprt_second",
    "refresh_token_expires_in": 7776000,
}
Answer = Callable[[httpx.Request], httpx.Response]


def lost(request: httpx.Request) -> httpx.Response:
    """Shopify got the request, but its answer never arrives."""
    raise httpx.ReadTimeout("timed out reading the answer", request=request)


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection reset", request=request)


def status(code: int, body: dict[str, object] | None = None) -> Answer:
    return lambda _request: httpx.Response(code, json=body or {})


class FakeTokenEndpoint:
    """Shopify's token endpoint, answering scripted outcomes in turn and recording what was asked."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.refresh_tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/admin/oauth/access_token"
        body = json.loads(request.content)
        assert body["grant_type"] == "refresh_token"
        self.refresh_tokens.append(body["refresh_token"])
        return self.answers.pop(0)(request)


@pytest.fixture
def due(shop: Shop) -> Shop:
    """A shop whose expiring token is inside the refresh margin."""
    shop_tokens_store(
        shop,
        IssuedToken(
            access_token="shpat_first",
            scopes="read_orders",
            expires_at=timezone.now() + timedelta(minutes=1),
            refresh_token="shprt_first",
            refresh_token_expires_at=timezone.now() + timedelta(days=30),
        ),
    )
    return shop


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits taken, instead of sleeping them."""
    taken: list[float] = []
    monkeypatch.setattr("shop_app.tokens.time", SimpleNamespace(sleep=taken.append))
    return taken


def route_to(monkeypatch: pytest.MonkeyPatch, endpoint: FakeTokenEndpoint) -> None:
    transport = httpx.MockTransport(endpoint)
    monkeypatch.setattr("shop_app.tokens.shopify_http_client", lambda: httpx.Client(transport=transport))


def test_a_refresh_whose_answer_is_lost_is_asked_again_with_the_same_refresh_token(
    due: Shop, other_shop: Shop, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Shopify rotates the tokens but its answer is lost on the way back
    endpoint = FakeTokenEndpoint(lost, status(200, NEW_PAIR))
    route_to(monkeypatch, endpoint)

    token = shop_access_token(due)

    # Then the same stored refresh token is sent again, and its answer is stored
    assert token == "shpat_second"
    assert endpoint.refresh_tokens == ["shprt_first", "shprt_first"]
    assert waits == [REFRESH_RETRY_DELAYS[0]]
    due.refresh_from_db()
    assert due.reauthorization_required_at is None
    assert token_decrypt(due.access_token_encrypted) == "shpat_second"
    assert token_decrypt(due.refresh_token_encrypted) == "shprt_second"
    # And the other shop is untouched
    other_shop.refresh_from_db()
    assert other_shop.access_token_encrypted == ""
    assert other_shop.reauthorization_required_at is None


def test_a_dropped_connection_then_server_errors_are_retried_with_growing_waits(
    due: Shop, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shopifyapp package repeats a 5xx twice itself; our retry comes after those.
    endpoint = FakeTokenEndpoint(dropped, status(503), status(502), status(500), status(200, NEW_PAIR))
    route_to(monkeypatch, endpoint)

    assert shop_access_token(due) == "shpat_second"

    assert endpoint.refresh_tokens == ["shprt_first"] * 5
    assert waits == list(REFRESH_RETRY_DELAYS)


def test_a_refresh_that_keeps_failing_in_transport_gives_up_without_marking_the_shop(
    due: Shop, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = len(REFRESH_RETRY_DELAYS) + 1
    endpoint = FakeTokenEndpoint(*[lost] * attempts)
    route_to(monkeypatch, endpoint)

    with pytest.raises(TokenRefreshUnavailable):
        shop_access_token(due)

    # Bounded: the first try and one per wait, all with the stored refresh token
    assert endpoint.refresh_tokens == ["shprt_first"] * attempts
    assert len(waits) == len(REFRESH_RETRY_DELAYS)
    # And nothing changed: a later try (a task's retry) still has the same refresh token to send
    due.refresh_from_db()
    assert due.reauthorization_required_at is None
    assert token_decrypt(due.access_token_encrypted) == "shpat_first"
    assert token_decrypt(due.refresh_token_encrypted) == "shprt_first"


@pytest.mark.parametrize(
    ("answer", "raised", "needs_the_merchant"),
    [
        (
            status(400, {"error": "invalid_grant", "error_description": "The refresh token was revoked"}),
            ShopNotAuthorized,
            True,
        ),
        (
            status(400, {"error": "invalid_request", "error_description": "Missing refresh_token"}),
            TokenRefreshUnavailable,
            False,
        ),
    ],
    ids=["invalid_grant", "another error"],
)
def test_an_answer_other_than_a_transport_failure_is_not_asked_again(
    due: Shop,
    waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
    answer: Answer,
    raised: type[Exception],
    needs_the_merchant: bool,
) -> None:
    endpoint = FakeTokenEndpoint(answer)
    route_to(monkeypatch, endpoint)

    with pytest.raises(raised):
        shop_access_token(due)

    assert endpoint.refresh_tokens == ["shprt_first"]
    assert waits == []
    # Only Shopify's refusal of the refresh token needs the merchant; any other answer leaves the
    # shop as it was, for a later try
    due.refresh_from_db()
    assert (due.reauthorization_required_at is not None) is needs_the_merchant
    assert token_decrypt(due.refresh_token_encrypted) == "shprt_first"


def test_a_refused_refresh_token_marks_the_shop_at_once(
    due: Shop, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    route_to(monkeypatch, FakeTokenEndpoint(status(400, {"error": "invalid_grant"})))

    with pytest.raises(ShopNotAuthorized):
        shop_access_token(due)

    due.refresh_from_db()
    assert due.reauthorization_required_at is not None
