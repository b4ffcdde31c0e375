"""Is this request from Shopify? HMAC-SHA256 of the raw body, with the app's secret."""

import base64
import hashlib
import hmac
from collections.abc import Iterable

from shop_app.shopify_http import shopify_app_secrets


def webhook_signature_is_valid(
    body: bytes, signature: str | None, secrets: Iterable[str] | None = None
) -> bool:
    """Compare in constant time against every accepted secret. Every secret is tried, whatever
    the outcome of the first, so the time taken does not say which one matched."""
    if not signature:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        return False
    matched = False
    for secret in shopify_app_secrets() if secrets is None else secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    return matched
