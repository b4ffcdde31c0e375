"""Storefront requests as Shopify's app proxy forwards them: the shopper's query plus `shop`,
`logged_in_customer_id`, `path_prefix` and `timestamp`, signed. Written from Shopify's docs, not
from the package the app verifies with, so that the tests check the two agree."""

import hashlib
import hmac
import time
from collections.abc import Sequence
from urllib.parse import urlencode

from django.conf import settings

PATH_PREFIX = "/apps/omakase"


def proxy_signature(pairs: Sequence[tuple[str, str]], secret: str) -> str:
    """Shopify's `signature`: repeated keys' values joined by ",", each key as `key=value`, those
    strings sorted and concatenated with no separator; hex HMAC-SHA256 under the app secret."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if key != "signature":
            grouped.setdefault(key, []).append(value)
    message = "".join(sorted(f"{key}={','.join(values)}" for key, values in grouped.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_proxy_query(
    shop_domain: str,
    *,
    customer_id: int | None = None,
    params: Sequence[tuple[str, str]] = (),
    secret: str | None = None,
    timestamp: int | None = None,
) -> list[tuple[str, str]]:
    """The query Shopify forwards for a shopper's request with `params` (pairs, repeats allowed)."""
    pairs = [
        *params,
        ("shop", shop_domain),
        ("logged_in_customer_id", str(customer_id) if customer_id else ""),
        ("path_prefix", PATH_PREFIX),
        ("timestamp", str(timestamp if timestamp is not None else int(time.time()))),
    ]
    return [*pairs, ("signature", proxy_signature(pairs, secret or settings.SHOPIFY_API_SECRET))]


def proxy_url(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """`/proxy/<path>?<pairs>`, keeping repeated keys (a dict would fold them)."""
    return f"/proxy/{path}?{urlencode(list(pairs))}"
