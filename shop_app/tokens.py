"""A shop's offline access token: stored encrypted, refreshed shortly before it expires, and
refreshed once however many workers notice at the same moment."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from shopify_app import TokenExchangeAccessToken, refresh_access_token

from shop_app.crypto import token_decrypt, token_encrypt
from shop_app.models import Shop
from shop_app.shopify_http import shopify_app_config, shopify_http_client
from shop_app.times import iso_time_parse

logger = logging.getLogger(__name__)

# Refresh this long before the access token expires, so that a call started just before expiry
# does not fail half-way.
REFRESH_MARGIN = timedelta(minutes=5)
# A refresh that fails in transport may have reached Shopify and lost only its answer. Shopify keeps
# a used refresh token good until its replacement is first used (changelog "More resilient
# refreshes for expiring offline access tokens", 2026-08-28), so we ask again with the same stored
# token after each of these waits (seconds). The shopifyapp package already repeats a 5xx twice at
# once. The waits are spent holding the shop's row lock, so they stay short.
REFRESH_RETRY_DELAYS = (0.5, 2.0)
# The package's codes for a refresh that failed in transport: a timeout or dropped connection, or
# Shopify's 5xx after the package's own retries. Anything else is an answer, and is final.
REFRESH_TRANSPORT_FAILURES = frozenset({"network_error", "server_error"})


class ShopNotAuthorized(Exception):
    """We hold no usable token for this shop: not installed, uninstalled, or Shopify refused our
    refresh token. Only the merchant opening the app again (a new token exchange) fixes it."""


class TokenRefreshUnavailable(Exception):
    """Refreshing failed for a reason that may pass (network, Shopify 5xx): retry later."""


class _RefreshRefused(Exception):
    """Shopify said no to our refresh token; raised inside the lock, handled outside it so that
    marking the shop survives the rollback."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scopes: str
    expires_at: datetime | None = None
    refresh_token: str = ""
    refresh_token_expires_at: datetime | None = None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return iso_time_parse(value)


def issued_token_from_exchange(token: TokenExchangeAccessToken) -> IssuedToken:
    """Our record of a token from the shopifyapp package's token exchange or refresh result."""
    return IssuedToken(
        access_token=token.token,
        scopes=token.scope or "",
        expires_at=_parse_time(token.expires),
        refresh_token=token.refresh_token or "",
        refresh_token_expires_at=_parse_time(token.refresh_token_expires),
    )


def shop_tokens_store(shop: Shop, token: IssuedToken) -> None:
    shop.access_token_encrypted = token_encrypt(token.access_token)
    shop.access_token_expires_at = token.expires_at
    shop.refresh_token_encrypted = token_encrypt(token.refresh_token) if token.refresh_token else ""
    shop.refresh_token_expires_at = token.refresh_token_expires_at
    shop.reauthorization_required_at = None
    if token.scopes:
        shop.scopes = token.scopes
    shop.save(
        update_fields=[
            "access_token_encrypted",
            "access_token_expires_at",
            "refresh_token_encrypted",
            "refresh_token_expires_at",
            "reauthorization_required_at",
            "scopes",
            "updated_at",
        ]
    )


def shop_tokens_drop(shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(
        access_token_encrypted="",
        access_token_expires_at=None,
        refresh_token_encrypted="",
        refresh_token_expires_at=None,
    )
    shop.access_token_encrypted = shop.refresh_token_encrypted = ""
    shop.access_token_expires_at = shop.refresh_token_expires_at = None


def shop_token_is_fresh(shop: Shop) -> bool:
    """Does the shop hold a token that will work for a while yet (or never expires)?"""
    if not shop.is_installed or not shop.has_access_token:
        return False
    expires_at = shop.access_token_expires_at
    return expires_at is None or expires_at - timezone.now() > REFRESH_MARGIN


def _usable_token(shop: Shop, rejected: str | None) -> str | None:
    """The stored token if it can be used as it is; None if it must be refreshed first."""
    if not shop.is_installed:
        raise ShopNotAuthorized(f"{shop.domain} is not installed")
    if not shop.has_access_token:
        raise ShopNotAuthorized(f"{shop.domain} has no usable access token")
    token = token_decrypt(shop.access_token_encrypted)
    if rejected is not None and token == rejected:
        return None
    return token if shop_token_is_fresh(shop) else None


def _mark_reauthorization_required(shop: Shop, reason: str) -> None:
    now = timezone.now()
    Shop.objects.filter(pk=shop.pk).update(reauthorization_required_at=now)
    shop.reauthorization_required_at = now
    logger.warning("shop %s needs the merchant to open the app again: %s", shop.domain, reason)


def _refresh(shop: Shop) -> IssuedToken:
    """Shopify's new token pair for the stored refresh token, asked again (same token, after
    REFRESH_RETRY_DELAYS) while the answer is lost in transport.

    Raises _RefreshRefused when Shopify says no to the token, TokenRefreshUnavailable when it
    cannot be reached or answers anything else.
    """
    if not shop.refresh_token_encrypted:
        # A static custom-app token, or a legacy non-expiring one, that Shopify no longer accepts.
        raise _RefreshRefused("token rejected and there is no refresh token")
    stored = {
        "shop": shop.domain.removesuffix(".myshopify.com"),
        "refresh_token": token_decrypt(shop.refresh_token_encrypted),
        # Empty on purpose: we decide when to refresh (REFRESH_MARGIN, or a 401), not the
        # package's own 60-second rule.
        "expires": "",
        "refresh_token_expires": (
            shop.refresh_token_expires_at.isoformat() if shop.refresh_token_expires_at else ""
        ),
        "access_mode": "offline",
    }
    delays = iter(REFRESH_RETRY_DELAYS)
    with shopify_http_client() as http:
        while True:
            result = refresh_access_token(stored, shopify_app_config(), http_client=http)
            if result.ok and result.access_token is not None:
                return issued_token_from_exchange(result.access_token)
            code = result.log.code
            if code in ("invalid_grant", "refresh_token_expired"):
                raise _RefreshRefused(f"Shopify refused the refresh token ({code})")
            delay = next(delays, None) if code in REFRESH_TRANSPORT_FAILURES else None
            if delay is None:
                raise TokenRefreshUnavailable(f"{shop.domain}: refresh failed ({code}): {result.log.detail}")
            logger.warning(
                "refreshing the token of %s failed in transport (%s); asking again in %.1f s",
                shop.domain,
                code,
                delay,
            )
            time.sleep(delay)


def shop_access_token(shop: Shop, *, rejected: str | None = None) -> str:
    """A token that works now for `shop`, refreshed first if it is about to expire.

    `rejected` is a token Shopify just answered 401 to: it is refreshed even if not yet due,
    unless another worker already replaced it.
    """
    token = _usable_token(shop, rejected)
    if token is not None:
        return token
    try:
        with transaction.atomic():
            # The row lock makes concurrent workers queue here; the first refreshes, the others
            # find the new token when they get the lock (a second refresh would get another pair
            # and revoke the one the first worker stored).
            locked = Shop.objects.select_for_update().get(pk=shop.pk)
            token = _usable_token(locked, rejected)
            if token is None:
                issued = _refresh(locked)
                shop_tokens_store(locked, issued)
                token = issued.access_token
                logger.info("refreshed the access token of %s", shop.domain)
    except _RefreshRefused as refusal:
        _mark_reauthorization_required(shop, str(refusal))
        raise ShopNotAuthorized(f"{shop.domain}: {refusal}") from refusal
    shop.refresh_from_db()
    return token
