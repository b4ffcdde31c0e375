"""Every signature devstore makes, each exactly as Shopify makes it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt


def webhook_hmac(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def query_hmac(secret: str, params: Mapping[str, str]) -> str:
    """The `hmac` of an OAuth callback or admin launch URL.

    Hex HMAC-SHA256 over the other parameters, sorted by key, as `k=v` joined by `&`.
    """
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def app_proxy_signature(secret: str, params: Mapping[str, str | Sequence[str]]) -> str:
    """The `signature` of an app proxy request.

    Unlike OAuth: repeated keys have their values joined by ",", and the sorted
    `k=v` pairs are concatenated with no separator at all.
    """
    pairs = []
    for key, value in params.items():
        if key == "signature":
            continue
        joined = value if isinstance(value, str) else ",".join(value)
        pairs.append(f"{key}={joined}")
    message = "".join(sorted(pairs))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def session_token_issue(
    *,
    shop_domain: str,
    api_key: str,
    api_secret: str,
    user_id: int | str = 1,
    ttl: int = 60,
    now: float | None = None,
) -> str:
    """An App Bridge session token (id token): HS256 over the app secret."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": api_key,
        "sub": str(user_id),
        "exp": issued + ttl,
        "nbf": issued,
        "iat": issued,
        "jti": secrets.token_hex(16),
        "sid": secrets.token_hex(16),
    }
    return jwt.encode(claims, api_secret, algorithm="HS256")


def session_token_decode(token: str, *, api_key: str, api_secret: str, leeway: int = 5) -> dict[str, Any]:
    """Raise jwt.InvalidTokenError unless the token is ours, current and for this app."""
    claims: dict[str, Any] = jwt.decode(
        token,
        api_secret,
        algorithms=["HS256"],
        audience=api_key,
        leeway=leeway,
        options={"require": ["iss", "dest", "aud", "exp", "nbf", "iat"]},
    )
    if not str(claims["dest"]).startswith("https://") or claims["iss"] != f"{claims['dest']}/admin":
        raise jwt.InvalidTokenError("iss and dest disagree")
    return claims
