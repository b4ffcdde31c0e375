"""Browsing signals from the web pixel (extensions/omakase-pixel): the shop's key, who may post,
how often, what a batch must look like, and how its events are stored and linked to a customer.

The pixel runs in Shopify's strict sandbox only with the shopper's analytics consent (its
`[customer_privacy]`), and posts `{"key", "customer", "events": [...]}` to `POST /pixel/events`
(personalize.pixel_views). Nothing signs that request: the key only names the shop, and is public
on every storefront page. So the door is narrow: the shop's storefront origins only, a rate per
key and browser and per key and address, a small body, every field checked before anything is
stored, and a batch is stored whole or not at all.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from commerce.catalog_memory import catalog_memory
from personalize.models import BrowsingEvent, PixelSettings
from personalize.served import served_forget
from shop_app.models import Shop

BODY_MAX_BYTES = 32_768
EVENTS_MAX = 25
# Shopify's client id (its `_shopify_y` visitor cookie) and event ids: opaque, short, plain.
OPAQUE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
QUERY_MAX = 255
# An event the browser dated too far from now is refused rather than trusted.
CLOCK_SKEW = timedelta(days=1)
# Requests per minute: per key and browser, and per key and address (many browsers behind one
# address, a shop's busy office, still fit).
RATE_PER_CLIENT = 60
RATE_PER_ADDRESS = 600
RATE_WINDOW_SECONDS = 60
# Views fade: one this many days old counts half as much as one today.
VIEW_HALF_LIFE_DAYS = 14.0
# Views older than this no longer count at all (1/32 of a fresh one).
VIEW_HORIZON_DAYS = 70
VIEWED_PRODUCTS_MAX = 10
# How much a type's share of the faded views adds to a product's boost (a profile's taste adds
# its share at weight 1: orders say more than views).
VIEW_TASTE_WEIGHT = 0.5


class PixelInputError(ValueError):
    """A batch the endpoint refuses, naming the field (`events[2].product_id`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- The shop's key and origins -----------------------------------------------------------------


def pixel_settings_for(shop: Shop) -> PixelSettings:
    """The shop's pixel settings, made with a fresh key on first use."""
    found = PixelSettings.objects.for_shop(shop).first()
    if found is not None:
        return found
    created, _ = PixelSettings.objects.get_or_create(shop=shop, defaults={"key": secrets.token_urlsafe(24)})
    return created


def pixel_key_rotate(shop: Shop) -> PixelSettings:
    """A new key for the shop (the old one stops working at once; the pixel's settings must
    follow, personalize.pixel_activation)."""
    pixel = pixel_settings_for(shop)
    pixel.key = secrets.token_urlsafe(24)
    pixel.save(update_fields=["key"])
    return pixel


def pixel_for_key(key: Any) -> PixelSettings | None:
    """The installed shop's pixel settings that carry this key, if any."""
    if not isinstance(key, str) or not OPAQUE_ID.match(key):
        return None
    return (
        PixelSettings.objects.select_related("shop")
        .filter(key=key, shop__in=Shop.objects.installed())
        .first()
    )


def pixel_endpoint() -> str:
    """Where the pixel posts: the app's own domain."""
    return f"{settings.APP_URL.rstrip('/')}/pixel/events"


def pixel_origins(pixel: PixelSettings) -> set[str]:
    """The storefront origins allowed to post for this shop: its myshopify.com domain, the primary
    domain Shopify reported, and in development the address devstore stands in for Shopify at."""
    origins = {f"https://{pixel.shop.domain}"}
    if pixel.primary_origin:
        origins.add(pixel.primary_origin)
    if settings.SHOPIFY_BASE_URL_OVERRIDE:
        origins.add(origin_of(settings.SHOPIFY_BASE_URL_OVERRIDE))
    return origins


def storefront_origin_known(origin: str) -> bool:
    """Whether some installed shop's storefront is at this origin (the preflight carries no key)."""
    if not origin:
        return False
    if settings.SHOPIFY_BASE_URL_OVERRIDE and origin == origin_of(settings.SHOPIFY_BASE_URL_OVERRIDE):
        return True
    parts = urlsplit(origin)
    installed = Shop.objects.installed()
    if parts.scheme == "https" and installed.filter(domain=parts.netloc).exists():
        return True
    return PixelSettings.objects.filter(primary_origin=origin, shop__in=installed).exists()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# --- Rate ---------------------------------------------------------------------------------------


def pixel_rate_allow(key: str, client_id: str, address: str) -> bool:
    """Count this request against its key's limits (fixed one-minute windows in the shared
    cache); False when either is spent."""
    window = int(timezone.now().timestamp()) // RATE_WINDOW_SECONDS
    for scope, limit in ((f"client:{client_id}", RATE_PER_CLIENT), (f"address:{address}", RATE_PER_ADDRESS)):
        counter = f"pixel-rate:{key}:{scope}:{window}"
        # add() then incr(): atomic in Redis, so concurrent requests never lose a count.
        cache.add(counter, 0, timeout=RATE_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.set(counter, 1, timeout=RATE_WINDOW_SECONDS * 2)
            count = 1
        if count > limit:
            return False
    return True


# --- A batch ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowsingBatch:
    customer_id: int | None
    client_ids: tuple[str, ...]
    events: tuple[BrowsingEvent, ...]


def browsing_batch_clean(shop: Shop, body: Any, *, now: datetime | None = None) -> BrowsingBatch:
    """Check a whole batch (PixelInputError names the first bad field); unsaved rows."""
    now = now or timezone.now()
    if not isinstance(body, dict):
        raise PixelInputError("body", "must be a JSON object with key, customer and events")
    unknown = set(body) - {"key", "customer", "events"}
    if unknown:
        raise PixelInputError(sorted(unknown)[0], "is not a field of a pixel batch")
    customer_id = _shopify_id(body.get("customer"), "customer", optional=True)
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= EVENTS_MAX:
        raise PixelInputError("events", f"must be a list of 1 to {EVENTS_MAX} events")
    rows = tuple(
        _event(shop, f"events[{index}]", event, customer_id=customer_id, now=now)
        for index, event in enumerate(events)
    )
    return BrowsingBatch(
        customer_id=customer_id,
        client_ids=tuple(dict.fromkeys(row.client_id for row in rows)),
        events=rows,
    )


EVENT_FIELDS = {
    "id",
    "name",
    "client_id",
    "at",
    "product_id",
    "variant_id",
    "collection_id",
    "query",
    "quantity",
}
# What each kind must carry.
REQUIRED = {
    BrowsingEvent.Kind.PRODUCT_VIEWED: ("product_id",),
    BrowsingEvent.Kind.PRODUCT_ADDED_TO_CART: ("product_id",),
    BrowsingEvent.Kind.COLLECTION_VIEWED: ("collection_id",),
    BrowsingEvent.Kind.SEARCH_SUBMITTED: ("query",),
}


def _event(shop: Shop, field: str, event: Any, *, customer_id: int | None, now: datetime) -> BrowsingEvent:
    if not isinstance(event, dict):
        raise PixelInputError(field, "must be an object")
    unknown = set(event) - EVENT_FIELDS
    if unknown:
        raise PixelInputError(f"{field}.{sorted(unknown)[0]}", "is not a field of an event")
    kind = event.get("name")
    if kind not in BrowsingEvent.Kind.values:
        raise PixelInputError(f"{field}.name", f"must be one of {', '.join(BrowsingEvent.Kind.values)}")
    for name in ("id", "client_id"):
        if not isinstance(event.get(name), str) or not OPAQUE_ID.match(event[name]):
            raise PixelInputError(f"{field}.{name}", "must be 1 to 64 letters, digits or -_.:")
    at = parse_datetime(event["at"]) if isinstance(event.get("at"), str) else None
    if at is None or at.tzinfo is None:
        raise PixelInputError(f"{field}.at", "must be an ISO 8601 time with its offset")
    if abs(at - now) > CLOCK_SKEW:
        raise PixelInputError(f"{field}.at", "is too far from now")
    for required in REQUIRED[BrowsingEvent.Kind(kind)]:
        if event.get(required) in (None, ""):
            raise PixelInputError(f"{field}.{required}", f"is required for {kind}")
    query = event.get("query", "") or ""
    if not isinstance(query, str) or len(query) > QUERY_MAX:
        raise PixelInputError(f"{field}.query", f"must be text of at most {QUERY_MAX} characters")
    _shopify_id(event.get("variant_id"), f"{field}.variant_id", optional=True)
    quantity = event.get("quantity")
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1):
        raise PixelInputError(f"{field}.quantity", "must be a positive whole number")
    return BrowsingEvent(
        shop=shop,
        event_id=event["id"],
        client_id=event["client_id"],
        customer_shopify_id=customer_id,
        kind=kind,
        product_shopify_id=_shopify_id(event.get("product_id"), f"{field}.product_id", optional=True),
        collection_shopify_id=_shopify_id(
            event.get("collection_id"), f"{field}.collection_id", optional=True
        ),
        query=query.strip(),
        at=at,
        received_at=now,
    )


def _shopify_id(value: Any, field: str, *, optional: bool) -> int | None:
    """A Shopify id as the pixel sends it: digits (Shopify's events carry ids as strings), an
    integer, or a gid."""
    if value is None or value == "":
        if optional:
            return None
        raise PixelInputError(field, "is required")
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and text.startswith("gid://shopify/"):
        text = text.rsplit("/", 1)[-1]
    if not isinstance(text, str) or not text.isdigit() or not 0 < int(text) < 2**63:
        raise PixelInputError(field, "must be a Shopify id")
    return int(text)


def browsing_events_record(shop: Shop, batch: BrowsingBatch) -> int:
    """Store a checked batch (an event already stored, sent again, is skipped) and, when the
    customer is known, give them what their browsers did before they signed in."""
    with transaction.atomic():
        stored = BrowsingEvent.objects.bulk_create(batch.events, ignore_conflicts=True)
        if batch.customer_id is not None:
            browsing_events_link(shop, batch.client_ids, batch.customer_id)
        # What the customers browsed feeds their "for you" (personalize.served).
        browsed = {event.customer_shopify_id for event in batch.events} | {batch.customer_id}
        served_forget(shop, [customer for customer in browsed if customer is not None])
    return len(stored)


def browsing_events_link(shop: Shop, client_ids: tuple[str, ...] | list[str], customer_id: int) -> int:
    """A browser was seen signed in: its anonymous events become the customer's."""
    return (
        BrowsingEvent.objects.for_shop(shop)
        .filter(client_id__in=list(client_ids), customer_shopify_id__isnull=True)
        .update(customer_shopify_id=customer_id)
    )


# --- What serving reads -------------------------------------------------------------------------


def views_weighted(shop: Shop, customer_id: int, *, today: date | None = None) -> dict[int, float]:
    """The products a customer viewed (or added to their cart) lately, each weighed by how often
    and how recently: 0.5 ** (age in days / VIEW_HALF_LIFE_DAYS) per event, the heaviest first."""
    return views_weighted_many(shop, [customer_id], today=today).get(customer_id, {})


def views_weighted_many(
    shop: Shop, customer_ids: Sequence[int], *, today: date | None = None
) -> dict[int, dict[int, float]]:
    """views_weighted for many customers, in one query (those with no recent view are left out)."""
    now = timezone.now() if today is None else datetime.combine(today, datetime.max.time(), tzinfo=UTC)
    since = now - timedelta(days=VIEW_HORIZON_DAYS)
    weights: dict[int, dict[int, float]] = {}
    for customer_id, product_id, at in (
        BrowsingEvent.objects.for_shop(shop)
        .filter(
            customer_shopify_id__in=list(customer_ids),
            kind__in=[BrowsingEvent.Kind.PRODUCT_VIEWED, BrowsingEvent.Kind.PRODUCT_ADDED_TO_CART],
            product_shopify_id__isnull=False,
            at__gte=since,
        )
        .values_list("customer_shopify_id", "product_shopify_id", "at")
    ):
        if customer_id is None or product_id is None:
            continue  # excluded by the filter; the type does not know it
        age_days = max(0.0, (now - at).total_seconds() / 86_400)
        viewed = weights.setdefault(customer_id, {})
        viewed[product_id] = viewed.get(product_id, 0.0) + math.pow(0.5, age_days / VIEW_HALF_LIFE_DAYS)
    return {
        customer_id: dict(sorted(viewed.items(), key=lambda item: (-item[1], item[0]))[:VIEWED_PRODUCTS_MAX])
        for customer_id, viewed in weights.items()
    }


def view_affinities(views: Mapping[int, float], product_types: Mapping[int, str]) -> dict[str, float]:
    """Viewed products' types as shares of the faded views (the shape of a profile's affinities)."""
    totals: dict[str, float] = {}
    for product_id, weight in views.items():
        product_type = product_types.get(product_id, "")
        if product_type:
            totals[product_type] = totals.get(product_type, 0.0) + weight
    whole = sum(totals.values())
    return {name: value / whole for name, value in totals.items()} if whole else {}


@dataclass(frozen=True)
class Browsing:
    """What serving knows of a shopper's browsing: faded views by product, and the types viewed
    as shares (added to their tastes, personalize.picks)."""

    views: Mapping[int, float]
    tastes: Mapping[str, float]


def browsing_for(shop: Shop, customer_id: int, *, today: date | None = None) -> Browsing:
    return browsings_for(shop, [customer_id], today=today)[customer_id]


def browsings_for(
    shop: Shop, customer_ids: Sequence[int], *, today: date | None = None
) -> dict[int, Browsing]:
    """browsing_for for many customers: their views in one query; the viewed products' types from
    the catalog in memory."""
    views = views_weighted_many(shop, customer_ids, today=today)
    products = catalog_memory(shop).products
    return {
        customer_id: Browsing(
            views=views.get(customer_id, {}),
            tastes=view_affinities(
                views.get(customer_id, {}),
                {
                    product_id: products[product_id].product_type
                    for product_id in views.get(customer_id, {})
                    if product_id in products
                },
            ),
        )
        for customer_id in customer_ids
    }
