"""Shopify's signed query strings and the legacy OAuth code grant.

Shopify signs the OAuth callback (and the app's launch URL) with `hmac`: hex HMAC-SHA256, under
the app secret, of every other parameter sorted by name and joined as `k=v&k=v`.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from shop_app.app_config import app_toml
from shop_app.domains import shop_domain_is_valid
from shop_app.shopify_http import shopify_admin_url, shopify_app_secrets, shopify_http_client
from shop_app.tokens import IssuedToken

# A callback older than this is refused even if its signature is good.
CALLBACK_MAX_AGE_SECONDS = 60 * 60
STATE_COOKIE = "omakase_oauth_state"


class CallbackRefused(Exception):
    """The callback is not one we can trust; nothing was changed."""


def query_signature(params: Mapping[str, str], secret: str) -> str:
    message = "&".join(f"{key}={params[key]}" for key in sorted(params) if key not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def query_hmac_is_valid(params: Mapping[str, str]) -> bool:
    """Constant-time check of Shopify's `hmac` over a query, with the current or previous secret."""
    given = params.get("hmac", "")
    if not given:
        return False
    return any(
        hmac.compare_digest(query_signature(params, secret), given) for secret in shopify_app_secrets()
    )


def oauth_state_new() -> str:
    return secrets.token_urlsafe(24)


def oauth_authorize_url(shop_domain: str, state: str) -> str:
    return shopify_admin_url(
        shop_domain,
        "/admin/oauth/authorize",
        {
            "client_id": settings.SHOPIFY_API_KEY,
            "scope": ",".join(app_toml().scopes),
            "redirect_uri": settings.APP_URL.rstrip("/") + "/auth/callback",
            "state": state,
        },
    )


def oauth_callback_verify(
    params: Mapping[str, str], expected_state: str | None, *, now: float | None = None
) -> str:
    """Check a callback's signature, state, age and shop, and that it was not used before.
    Returns the shop domain; raises CallbackRefused otherwise."""
    if not query_hmac_is_valid(params):
        raise CallbackRefused("bad hmac")
    state = params.get("state", "")
    if not expected_state or not hmac.compare_digest(state, expected_state):
        raise CallbackRefused("state does not match this browser's")
    try:
        age = (now if now is not None else time.time()) - int(params.get("timestamp", ""))
    except ValueError as error:
        raise CallbackRefused("no timestamp") from error
    if not -60 <= age <= CALLBACK_MAX_AGE_SECONDS:
        raise CallbackRefused("timestamp too old or in the future")
    shop_domain = params.get("shop", "")
    if not shop_domain_is_valid(shop_domain):
        raise CallbackRefused("not a shop domain")
    # Each state is good once: a replayed callback (same browser, same URL) is refused.
    if not cache.add(f"oauth-state-used:{state}", True, timeout=CALLBACK_MAX_AGE_SECONDS * 2):
        raise CallbackRefused("callback already used")
    return shop_domain


def oauth_code_exchange(shop_domain: str, code: str) -> IssuedToken:
    """Redeem the callback's code for an expiring offline token and its refresh token (public
    apps may not hold non-expiring offline tokens)."""
    try:
        with shopify_http_client() as http:
            response = http.post(
                f"https://{shop_domain}/admin/oauth/access_token",
                json={
                    "client_id": settings.SHOPIFY_API_KEY,
                    "client_secret": settings.SHOPIFY_API_SECRET,
                    "code": code,
                    "expiring": "1",
                },
            )
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as error:
        raise CallbackRefused(f"Shopify could not be reached or answered badly: {error}") from error
    if response.status_code != 200:
        raise CallbackRefused(f"Shopify refused the code ({response.status_code})")
    if not isinstance(body, dict) or not body.get("access_token"):
        raise CallbackRefused("Shopify's answer has no access token")
    now = timezone.now()

    def after(seconds: object) -> datetime | None:
        return now + timedelta(seconds=int(str(seconds))) if seconds else None

    return IssuedToken(
        access_token=str(body["access_token"]),
        scopes=str(body.get("scope", "")),
        expires_at=after(body.get("expires_in")),
        refresh_token=str(body.get("refresh_token", "")),
        refresh_token_expires_at=after(body.get("refresh_token_expires_in")),
    )
