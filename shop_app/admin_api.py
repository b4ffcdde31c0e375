"""The Admin GraphQL client: one object per shop, on top of the shopifyapp package.

The package sends the request, honours Retry-After on 429 and retries 502/503/504 with backoff.
This client adds what Shopify asks of a good citizen: it spends from the cost bucket Shopify
reports in `extensions.cost`, waits for the bucket to refill instead of running into THROTTLED,
and refreshes the token once if Shopify answers 401.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from shopify_app import GQLResult, admin_graphql_request

from shop_app.models import Shop
from shop_app.shopify_http import shopify_http_client
from shop_app.tokens import shop_access_token

logger = logging.getLogger(__name__)

# Retries of the package itself for 429 and 5xx, per request.
TRANSPORT_RETRIES = 2
# How many times we wait for the bucket after a THROTTLED answer before giving up.
THROTTLE_RETRIES = 5
# Before we have seen the real cost of a query, assume this much.
DEFAULT_QUERY_COST = 10.0


class AdminApiError(Exception):
    def __init__(self, message: str, *, code: str = "", errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.errors = errors or []


@dataclass(frozen=True)
class Bucket:
    """Shopify's leaky bucket for one app on one shop, as last reported."""

    available: float
    maximum: float
    restore_rate: float
    observed_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.observed_at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points."""
        missing = min(cost, self.maximum) - self.available_at(now)
        return max(0.0, missing / self.restore_rate) if self.restore_rate > 0 else 0.0


def _bucket_key(shop: Shop) -> str:
    return f"shopify-bucket:{shop.domain}"


def _parse_errors(result: GQLResult) -> list[dict[str, Any]]:
    try:
        body = json.loads(result.response.body or "{}")
    except json.JSONDecodeError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else []


class AdminClient:
    """Admin GraphQL for one shop. Workers share what they learn of the cost bucket through the
    cache, so that several of them do not each spend the whole bucket."""

    def __init__(
        self,
        shop: Shop,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop = shop
        self.api_version = settings.SHOPIFY_API_VERSION
        self._http = http_client
        self._sleep = sleep
        self._clock = clock
        self._costs: dict[str, float] = {}

    # --- the cost bucket ---------------------------------------------------------------------
    def bucket(self) -> Bucket | None:
        """What Shopify last said of the shop's cost bucket (shared by every process), if recent."""
        return cache.get(_bucket_key(self.shop))

    def _observe(self, extensions: dict[str, Any] | None, query_key: str) -> None:
        cost = (extensions or {}).get("cost")
        if not isinstance(cost, dict):
            return
        status = cost.get("throttleStatus") or {}
        if "currentlyAvailable" in status:
            bucket = Bucket(
                available=float(status["currentlyAvailable"]),
                maximum=float(status.get("maximumAvailable", status["currentlyAvailable"])),
                restore_rate=float(status.get("restoreRate", 50.0)),
                observed_at=self._clock(),
            )
            cache.set(_bucket_key(self.shop), bucket, timeout=120)
        if "requestedQueryCost" in cost:
            self._costs[query_key] = float(cost["requestedQueryCost"])

    def _wait_for_budget(self, query_key: str) -> None:
        bucket = self.bucket()
        if bucket is None:
            return
        wait = bucket.wait_for(self._costs.get(query_key, DEFAULT_QUERY_COST), self._clock())
        if wait > 0:
            logger.info("waiting %.2f s for %s's API bucket to refill", wait, self.shop.domain)
            self._sleep(wait)

    # --- requests ------------------------------------------------------------------------------
    def _send(self, query: str, variables: dict[str, Any] | None, token: str) -> GQLResult:
        if self._http is not None:
            return self._request(query, variables, token, self._http)
        with shopify_http_client() as http:
            return self._request(query, variables, token, http)

    def _request(
        self, query: str, variables: dict[str, Any] | None, token: str, http: httpx.Client
    ) -> GQLResult:
        return admin_graphql_request(
            query,
            shop=self.shop.domain.removesuffix(".myshopify.com"),
            access_token=token,
            api_version=self.api_version,
            variables=variables,
            max_retries=TRANSPORT_RETRIES,
            http_client=http,
        )

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation and return its `data`. Raises AdminApiError when Shopify
        answers with errors, and ShopNotAuthorized when the shop's token is gone for good."""
        query_key = hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()
        token = shop_access_token(self.shop)
        refreshed = False
        throttled = 0
        while True:
            self._wait_for_budget(query_key)
            started = time.monotonic()
            result = self._send(query, variables, token)
            self._observe(result.extensions, query_key)
            logger.info(
                "admin api %s: %s in %.0f ms",
                self.shop.domain,
                result.log.code,
                (time.monotonic() - started) * 1000,
            )
            if result.ok:
                return result.data or {}
            if result.log.code == "unauthorized" and not refreshed:
                # Revoked or expired early: refresh once (unless another worker already did).
                token = shop_access_token(self.shop, rejected=token)
                refreshed = True
                continue
            errors = _parse_errors(result)
            if any((error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors):
                throttled += 1
                if throttled <= THROTTLE_RETRIES:
                    body = json.loads(result.response.body or "{}")
                    self._observe(body.get("extensions"), query_key)
                    if self.bucket() is None:
                        self._sleep(1.0)  # no bucket reported: wait a restore period blind
                    continue
                raise AdminApiError("Shopify kept throttling this request", code="THROTTLED", errors=errors)
            raise AdminApiError(
                f"Admin API request failed: {result.log.code}: {result.log.detail}",
                code=result.log.code,
                errors=errors,
            )


def admin_client_for_shop(shop: Shop) -> AdminClient:
    return AdminClient(shop)
