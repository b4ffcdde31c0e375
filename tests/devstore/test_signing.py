"""Known-answer tests: every signature devstore makes, checked against values computed here
independently with hmac/hashlib, and against Shopify's published examples."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt

from devstore.signing import (
    app_proxy_signature,
    query_hmac,
    session_token_decode,
    session_token_issue,
    webhook_hmac,
)


def test_oauth_hmac_matches_shopifys_published_example() -> None:
    # Given Shopify's documented callback (secret "hush")
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }

    # When devstore signs it
    signature = query_hmac("hush", params)

    # Then it is the hmac Shopify's docs show
    assert signature == "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"


def test_oauth_hmac_is_sorted_pairs_joined_by_ampersand_without_the_hmac() -> None:
    params = {
        "timestamp": "1700000000",
        "shop": "a.myshopify.com",
        "host": "YWRtaW4",
        "code": "abc",
        "state": "xyz",
        "hmac": "ignored",
    }
    message = b"code=abc&host=YWRtaW4&shop=a.myshopify.com&state=xyz&timestamp=1700000000"

    expected = hmac.new(b"secret", message, hashlib.sha256).hexdigest()

    assert query_hmac("secret", params) == expected


def test_app_proxy_signature_matches_shopifys_published_examples() -> None:
    # Given the forwarded query of Shopify's app proxy example (secret "hush")
    params = {
        "extra": ["1", "2"],
        "shop": "shop-name.myshopify.com",
        "logged_in_customer_id": "1",
        "path_prefix": "/apps/awesome_reviews",
        "timestamp": "1317327555",
    }

    # Then the signatures are the ones the docs show: signed in, anonymous, and the older
    # example that predates logged_in_customer_id
    assert (
        app_proxy_signature("hush", params)
        == "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
    )
    assert (
        app_proxy_signature("hush", {**params, "logged_in_customer_id": ""})
        == "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"
    )
    older = {k: v for k, v in params.items() if k != "logged_in_customer_id"}
    assert (
        app_proxy_signature("hush", older)
        == "a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"
    )


def test_app_proxy_signature_joins_repeats_with_commas_and_pairs_with_nothing() -> None:
    params = {"shop": "a.myshopify.com", "b": ["2", "1"], "timestamp": "5", "signature": "ignored"}
    message = b"b=2,1shop=a.myshopify.comtimestamp=5"

    expected = hmac.new(b"k", message, hashlib.sha256).hexdigest()

    assert app_proxy_signature("k", params) == expected


def test_webhook_hmac_is_base64_of_hmac_sha256_over_the_raw_body() -> None:
    body = b'{"id":1,"name":"#1001"}'

    expected = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()

    assert webhook_hmac("secret", body) == expected


def test_session_token_has_shopifys_claims_and_verifies_with_the_app_secret() -> None:
    # Given a session token issued for a shop and user
    now = int(time.time())
    token = session_token_issue(
        shop_domain="a.myshopify.com", api_key="key", api_secret="secret", user_id=42, now=now
    )

    # When decoded independently with PyJWT and the app secret
    claims = jwt.decode(token, "secret", algorithms=["HS256"], audience="key")

    # Then it carries Shopify's claims, lasting one minute
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["iss"] == "https://a.myshopify.com/admin"
    assert claims["dest"] == "https://a.myshopify.com"
    assert claims["aud"] == "key"
    assert claims["sub"] == "42"
    assert claims["exp"] == now + 60
    assert claims["nbf"] == claims["iat"] == now
    assert claims["jti"]
    assert claims["sid"]


def test_a_hand_signed_session_token_is_accepted_and_a_forged_one_refused() -> None:
    now = int(time.time())
    claims = {
        "iss": "https://a.myshopify.com/admin",
        "dest": "https://a.myshopify.com",
        "aud": "key",
        "sub": "1",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "j",
        "sid": "s",
    }
    good = jwt.encode(claims, "secret", algorithm="HS256")
    forged = jwt.encode(claims, "not-the-secret", algorithm="HS256")

    assert session_token_decode(good, api_key="key", api_secret="secret")["sub"] == "1"
    try:
        session_token_decode(forged, api_key="key", api_secret="secret")
    except jwt.InvalidTokenError:
        pass
    else:
        raise AssertionError("a forged token was accepted")
