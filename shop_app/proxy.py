"""The app-proxy door: the one way a storefront request reaches a view.

Shopify's app proxy forwards `/apps/omakase/...` on the shop's storefront to our `/proxy/...`,
adding `shop`, `logged_in_customer_id`, `path_prefix`, `timestamp` and `signature` to the
shopper's own query. `storefront_view` verifies all of that with the shopifyapp package and hands
the view a `StorefrontVisit`: the installed shop and the signed-in customer's id, if any.

Shopify signs the forwarded query as its sorted `key=value` strings, concatenated; the package
sorts by key alone. The two orders agree unless one key is a prefix of another and the next
character sorts below `=` (`-`, `.`, digits...): `page-size=5` sorts before `page=2`, while `page`
sorts before `page-size`. So the parameters our storefront code sends are named with lower-case
letters and `_` only (`_` sorts above `=`), never `page2` or `page-size`; a shopper who adds such
pairs by hand gets a 401, which is harmless.
"""

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.http import require_GET
from shopify_app import verify_app_proxy_req

from shop_app.app_config import app_toml
from shop_app.domains import shop_domain_is_valid
from shop_app.models import Shop, installed_shop
from shop_app.session_auth import shopify_request_input
from shop_app.shopify_http import shopify_app_config

logger = logging.getLogger(__name__)

P = ParamSpec("P")

# What Shopify adds to the query, once each. The package refuses a repeated `shop` and
# `signature`, but would take the first of two `timestamp`s or `logged_in_customer_id`s, each
# signed as "a,b": a pair Shopify never sends.
SHOPIFY_PROXY_PARAMETERS = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
# Where the app proxy forwards to, as shopify.app.toml declares it ("/proxy/" -> "proxy").
PROXY_ROUTE = app_toml().proxy_path.strip("/")
# A personalized answer must not be kept by Shopify's proxy, a CDN or the browser, for anyone else.
PRIVATE_CACHE_CONTROL = "private, no-store"


@dataclass(frozen=True)
class StorefrontVisit:
    """Who is asking, as Shopify's signature vouches: an installed shop, and the customer signed in
    to its storefront (None for a guest)."""

    shop: Shop
    customer_id: int | None


def storefront_visit_verify(request: HttpRequest) -> StorefrontVisit | None:
    """The verified visit, or None when the request is not Shopify's app proxy speaking for an
    installed shop: signature (constant time, current or previous secret), timestamp within 90 s,
    each of Shopify's parameters once, a valid shop domain we hold an installation for."""
    if any(len(request.GET.getlist(name)) > 1 for name in SHOPIFY_PROXY_PARAMETERS):
        return None
    result = verify_app_proxy_req(shopify_request_input(request), shopify_app_config())  # type: ignore[arg-type]
    if not result.ok or not result.shop:
        logger.info("app proxy request refused: %s", result.log.code)
        return None
    shop_domain = f"{result.shop}.myshopify.com"
    # Empty for a guest; otherwise the customer's Shopify id.
    customer = result.logged_in_customer_id or ""
    if not shop_domain_is_valid(shop_domain) or not (customer == "" or customer.isdigit()):
        return None
    shop = _installed_shop_held(shop_domain)
    if shop is None:
        logger.info("app proxy request for %s, which has not installed the app", shop_domain)
        return None
    return StorefrontVisit(shop=shop, customer_id=int(customer) if customer else None)


# How long a process keeps the installed shop it read for the door. A storefront asks on every page
# and every block; reading the shop each time cost a query per request. A shop saved in this
# process is read again at once (shop_app.apps), one saved elsewhere (an uninstall, the catalog's
# version moving on) within this time.
SHOP_HELD_SECONDS = 1.0
# The most shops a process keeps (only shops whose requests Shopify signed reach it).
SHOPS_HELD = 1_000
_shops_held: dict[str, tuple[float, Shop | None]] = {}


def _installed_shop_held(domain: str) -> Shop | None:
    now = time.monotonic()
    held = _shops_held.get(domain)
    if held is not None and now - held[0] < SHOP_HELD_SECONDS:
        return held[1]
    if len(_shops_held) >= SHOPS_HELD:
        _shops_held.clear()
    shop = _shops_held[domain] = (now, installed_shop(domain))
    return shop[1]


def held_shop_forget(domain: str) -> None:
    """Read this shop again on its next storefront request (it was saved in this process)."""
    _shops_held.pop(domain, None)


def storefront_view(
    view: Callable[Concatenate[HttpRequest, StorefrontVisit, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Put a view behind the door: it runs only for a verified visit, which it receives after the
    request. Anything else gets a bare 401 (no detail to probe with). Answers are private and not
    stored unless the view sets its own Cache-Control (a public, anonymous asset)."""

    @functools.wraps(view)
    def door(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        visit = storefront_visit_verify(request)
        if visit is None:
            refused = HttpResponse(status=401, content_type="text/plain")
            refused["Cache-Control"] = PRIVATE_CACHE_CONTROL
            return refused
        response = view(request, visit, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response

    return door


# The most a storefront request's JSON body may weigh.
BODY_MAX_BYTES = 16_384


def proxy_error(field: str, message: str, status: int = 400) -> JsonResponse:
    """A refusal as every storefront endpoint answers it: `{"error": {"field", "message"}}`."""
    return JsonResponse({"error": {"field": field, "message": message}}, status=status)


def proxy_json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The request's JSON object, or the 400 (413 when too big) to answer instead."""
    if len(request.body) > BODY_MAX_BYTES:
        return proxy_error("body", f"must be at most {BODY_MAX_BYTES} bytes", status=413)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return proxy_error("body", "must be a JSON object")
    if not isinstance(body, dict):
        return proxy_error("body", "must be a JSON object")
    return body


def client_address(request: HttpRequest) -> str:
    """The shopper's address: Shopify's proxy forwards it first in X-Forwarded-For."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


@require_GET
@storefront_view
def proxy_ping(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """GET /proxy/ping: who the door let in. For the storefront's scripts and for tests."""
    return JsonResponse({"shop": visit.shop.domain, "customer": visit.customer_id})


def proxy_not_found(request: HttpRequest) -> HttpResponse:
    """Any other address under /proxy/: a plain 404, never Django's debug page listing our URLs
    (the storefront shows whatever we answer)."""
    return HttpResponseNotFound("Not found", content_type="text/plain")
