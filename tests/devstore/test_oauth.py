"""OAuth: authorize and callback hmac, code grant, token exchange, refresh, expiry, uninstall."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlsplit

from starlette.testclient import TestClient

from devstore.context import Devstore
from devstore.db import Row
from tests.devstore.conftest import API_KEY, API_SECRET, SHOP, VERSION, Receiver

EXCHANGE = {
    "client_id": API_KEY,
    "client_secret": API_SECRET,
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
}


def _session_token(client: TestClient) -> str:
    return str(client.post("/_devstore/session-token", json={"user_id": 7}).json()["session_token"])


def _shop_query(client: TestClient, token: str) -> int:
    return client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": "{ shop { id } }"},
        headers={"X-Shopify-Access-Token": token},
    ).status_code


def test_authorize_redirects_with_a_callback_hmac_we_can_recompute(client: TestClient, shop: Row) -> None:
    # When the merchant approves the install
    response = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "nonce-1",
            "auto": "1",
            "redirect_uri": "http://127.0.0.1:8000/auth/callback",
        },
        follow_redirects=False,
    )

    # Then Shopify's callback carries code, host, shop, state, timestamp and their hmac
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/auth/callback"
    params = dict(parse_qsl(location.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP
    assert params["state"] == "nonce-1"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_without_auto_the_merchant_sees_a_grant_page(client: TestClient, shop: Row) -> None:
    response = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "s",
            "redirect_uri": "http://127.0.0.1:8000/auth/callback",
        },
    )

    assert response.status_code == 200
    assert "Install app" in response.text


def test_a_code_is_exchanged_once(client: TestClient, shop: Row) -> None:
    location = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "s",
            "auto": "1",
            "redirect_uri": "http://app/cb",
        },
        follow_redirects=False,
    ).headers["location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    form = {"client_id": API_KEY, "client_secret": API_SECRET, "code": code}

    first = client.post("/admin/oauth/access_token", data=form)
    second = client.post("/admin/oauth/access_token", data=form)

    assert first.status_code == 200
    assert first.json()["scope"] == "read_orders"
    assert _shop_query(client, first.json()["access_token"]) == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_token_exchange_gives_an_expiring_token_and_a_refresh_token(client: TestClient, shop: Row) -> None:
    response = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "scope", "expires_in", "refresh_token", "refresh_token_expires_in"}
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 90 * 24 * 3600
    assert _shop_query(client, body["access_token"]) == 200


def test_token_exchange_without_expiring_gives_a_lasting_token(client: TestClient, shop: Row) -> None:
    body = client.post(
        "/admin/oauth/access_token",
        data={**EXCHANGE, "subject_token": _session_token(client), "expiring": "0"},
    ).json()

    assert set(body) == {"access_token", "scope"}


def test_a_bad_subject_token_or_client_is_refused(client: TestClient, shop: Row) -> None:
    bad_subject = client.post("/admin/oauth/access_token", json={**EXCHANGE, "subject_token": "not.a.jwt"})
    bad_client = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "client_secret": "wrong", "subject_token": _session_token(client)},
    )

    assert bad_subject.status_code == 400
    assert bad_subject.json()["error"] == "invalid_subject_token"
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"


def test_an_expired_session_token_is_an_invalid_subject_token(client: TestClient, shop: Row) -> None:
    old = client.post("/_devstore/session-token", json={"ttl": -60}).json()["session_token"]

    response = client.post("/admin/oauth/access_token", json={**EXCHANGE, "subject_token": old})

    assert response.json()["error"] == "invalid_subject_token"


def test_refresh_rotates_both_tokens_and_spends_the_old_refresh_token(client: TestClient, shop: Row) -> None:
    first = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    ).json()
    form = {
        "client_id": API_KEY,
        "client_secret": API_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
    }

    second = client.post("/admin/oauth/access_token", data=form)
    replay = client.post("/admin/oauth/access_token", data=form)

    assert second.status_code == 200
    assert second.json()["access_token"] != first["access_token"]
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert _shop_query(client, second.json()["access_token"]) == 200
    assert _shop_query(client, first["access_token"]) == 401
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_short_lifetimes_set_through_the_control_api(client: TestClient, shop: Row) -> None:
    client.post("/_devstore/settings", json={"access_token_ttl": 1, "refresh_token_ttl": 1})
    issued = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    ).json()
    assert issued["expires_in"] == 1

    time.sleep(1.1)

    assert _shop_query(client, issued["access_token"]) == 401
    refused = client.post(
        "/admin/oauth/access_token",
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
        },
    )
    assert refused.json()["error"] == "invalid_grant"


def test_uninstall_revokes_tokens_and_tells_the_app(
    client: TestClient, ds: Devstore, token: str, receiver: Receiver
) -> None:
    client.post("/_devstore/uninstall", json={})

    assert _shop_query(client, token) == 401
    request = receiver.wait_for(1)[0]
    assert request.headers["X-Shopify-Topic"] == "app/uninstalled"
    assert request.json()["myshopify_domain"] == SHOP
