"""Is this request from Shopify? HMAC-SHA256 of the raw body, with the app's secret."""

import base64
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings


def webhook_secrets() -> list[str]:
    """The current secret, and the previous one while a rotation is under way."""
    return [
        secret for secret in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS) if secret
    ]


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
    for secret in webhook_secrets() if secrets is None else secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    return matched
