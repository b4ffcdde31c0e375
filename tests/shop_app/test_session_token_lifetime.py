"""Session tokens Shopify would never issue are refused, however well signed: Shopify's live one
minute, so a token without an expiry, or one meant to live for hours, is a forgery or a leak."""

import time

import pytest
from django.test import Client

from shop_app.models import Shop
from shop_app.session_auth import session_token_times_are_shopifys
from tests.conftest import client_bearing, make_session_token

RETRY = "X-Shopify-Retry-Invalid-Session-Request"
NOW = 1_800_000_000  # a fixed clock for the limit's own tests


def times(issued: int, expires: int, not_before: int | None = None) -> dict[str, int]:
    return {"iat": issued, "nbf": issued if not_before is None else not_before, "exp": expires}


def test_a_lifetime_of_two_minutes_is_the_most_accepted() -> None:
    assert session_token_times_are_shopifys(times(NOW, NOW + 60), now=NOW)
    assert session_token_times_are_shopifys(times(NOW, NOW + 120), now=NOW)
    assert not session_token_times_are_shopifys(times(NOW, NOW + 121), now=NOW)


def test_an_expiry_more_than_two_minutes_and_the_leeway_from_now_is_refused() -> None:
    # Issued "in the future" so that the lifetime alone is within the limit
    assert session_token_times_are_shopifys(times(NOW + 10, NOW + 130), now=NOW)
    assert not session_token_times_are_shopifys(times(NOW + 11, NOW + 131), now=NOW)
    assert not session_token_times_are_shopifys(times(NOW + 3600, NOW + 3660), now=NOW)


@pytest.mark.parametrize("missing", ["exp", "iat", "nbf"])
def test_times_without_one_of_shopify_s_claims_are_refused(missing: str) -> None:
    claims = times(NOW, NOW + 60)
    del claims[missing]

    assert not session_token_times_are_shopifys(claims, now=NOW)


@pytest.mark.parametrize("value", ["1800000060", None, True])
def test_an_expiry_that_is_not_a_number_is_refused(value: object) -> None:
    claims: dict[str, object] = {"iat": NOW, "nbf": NOW, "exp": value}

    assert not session_token_times_are_shopifys(claims, now=NOW)


@pytest.mark.parametrize("missing", [("exp",), ("iat",), ("nbf",), ("exp", "nbf", "iat")])
def test_a_token_without_shopify_s_time_claims_is_refused_with_the_retry_header(
    shop: Shop, missing: tuple[str, ...]
) -> None:
    response = client_bearing(make_session_token(shop.domain, without=missing)).get("/api/shop")

    assert response.status_code == 401
    assert response[RETRY] == "1"


@pytest.mark.parametrize(
    ("lifetime", "issued_ago"),
    [
        (3600, 1),  # an hour from now
        (10 * 365 * 86400, 1),  # ten years
        (100, 200),  # issued long before, living 5 minutes
    ],
    ids=["an-hour", "ten-years", "five-minutes-from-issue"],
)
def test_a_token_meant_to_live_longer_than_shopify_s_is_refused(
    shop: Shop, lifetime: int, issued_ago: int
) -> None:
    token = make_session_token(shop.domain, lifetime=lifetime, iat=int(time.time()) - issued_ago)

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
    token = make_session_token(unknown.domain, without=["exp"])

    # When App Home is opened with it
    response = client.get("/", {"shop": unknown.domain, "id_token": token})

    # Then it is refused as today's bad tokens are, and no install or token exchange was attempted
    assert response.status_code == 401
    assert response[RETRY] == "1"
    assert exchanges == []
    assert not Shop.objects.filter(domain=unknown.domain).exists()
