"""Shopify's privacy (compliance) topics, and the registry every module plugs into.

Each module that holds shopper or shop data registers one PrivacyProvider (in its AppConfig.ready):
how to export what it holds on a shopper, how to erase it, and how to erase a whole shop. The three
topics then run every registered provider, so a new module (loyalty, newsletters) is covered by
registering, not by editing this file:

    privacy_provider_register(PrivacyProvider(name="loyalty", export_shopper=points_export,
                                              erase_shopper=points_erase, erase_shop=loyalty_erase_shop))
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from personalize.records import require, shopify_id, text
from personalize.suppression import privacy_hash, shopper_is_suppressed
from shop_app.models import Shop
from webhooks.models import EventStatus, PrivacyKind, PrivacyRequest, WebhookEvent

logger = logging.getLogger(__name__)

# A payload erased in place: the event row stays (status, times) but holds no personal data.
REDACTED_BODY = json.dumps({"redacted": True})


@dataclass(frozen=True)
class ShopperRef:
    """Who a privacy request is about, as Shopify identifies them."""

    customer_id: int | None
    email: str = ""
    phone: str = ""
    order_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class PrivacyProvider:
    name: str
    # Everything this module holds on the shopper, as JSON-ready data (a section of the export).
    export_shopper: Callable[[Shop, ShopperRef], Any]
    # Erase the shopper's personal data; anonymous aggregates may stay. Returns counts for the log.
    erase_shopper: Callable[[Shop, ShopperRef], dict[str, int]]
    # Delete everything this module holds for the shop. Returns counts for the log.
    erase_shop: Callable[[Shop], dict[str, int]]


_PROVIDERS: dict[str, PrivacyProvider] = {}


def privacy_provider_register(provider: PrivacyProvider) -> None:
    _PROVIDERS[provider.name] = provider


def privacy_providers() -> list[PrivacyProvider]:
    return [_PROVIDERS[name] for name in sorted(_PROVIDERS)]


def shopper_ref_from_payload(payload: dict[str, Any], orders_key: str) -> ShopperRef:
    customer = require(payload, "customer", "payload")
    raw_id = customer.get("id") if isinstance(customer, dict) else None
    return ShopperRef(
        customer_id=shopify_id(raw_id, "customer.id") if raw_id not in (None, "") else None,
        email=text(customer.get("email")).lower() if isinstance(customer, dict) else "",
        phone=text(customer.get("phone")) if isinstance(customer, dict) else "",
        order_ids=tuple(shopify_id(value, orders_key) for value in payload.get(orders_key) or []),
    )


def _customer_id_hash(shop: Shop, ref: ShopperRef) -> str:
    return privacy_hash(shop, "customer", ref.customer_id) if ref.customer_id else ""


# --- customers/data_request --------------------------------------------------------------------


def shopper_data_export(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    """Everything we hold on the shopper, one section per registered provider."""
    return {
        "shop": shop.domain,
        "customer": {"id": ref.customer_id, "email": ref.email, "phone": ref.phone},
        "generated_at": timezone.now().isoformat(),
        "sections": {provider.name: provider.export_shopper(shop, ref) for provider in privacy_providers()},
    }


def customer_data_request_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    ref = shopper_ref_from_payload(payload, "orders_requested")
    data_request = payload.get("data_request")
    request_id = data_request.get("id") if isinstance(data_request, dict) else None
    export = shopper_data_export(shop, ref)
    PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.DATA_REQUEST,
        webhook_event_id=event.pk,
        customer_shopify_id=ref.customer_id,
        customer_id_hash=_customer_id_hash(shop, ref),
        shopify_request_id=shopify_id(request_id, "data_request.id") if request_id else None,
        received_at=event.received_at,
        completed_at=timezone.now(),
        summary={name: _count(section) for name, section in export["sections"].items()},
        export=export,
    )
    logger.info("customers/data_request for %s: export ready", shop.domain)


def _count(section: Any) -> int:
    if isinstance(section, dict):
        return sum(
            len(value) if isinstance(value, list) else int(value is not None) for value in section.values()
        )
    return len(section) if isinstance(section, list) else int(section is not None)


# --- customers/redact ----------------------------------------------------------------------------


def shopper_erase(shop: Shop, ref: ShopperRef) -> dict[str, dict[str, int]]:
    return {provider.name: provider.erase_shopper(shop, ref) for provider in privacy_providers()}


def customer_redact_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    ref = shopper_ref_from_payload(payload, "orders_to_redact")
    summary = shopper_erase(shop, ref)
    PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.CUSTOMER_REDACT,
        webhook_event_id=event.pk,
        customer_id_hash=_customer_id_hash(shop, ref),
        received_at=event.received_at,
        completed_at=timezone.now(),
        summary=summary,
    )
    logger.info("customers/redact for %s: done", shop.domain)


# --- shop/redact ---------------------------------------------------------------------------------


def shop_redact_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    """Delete everything the shop's data, then the shop itself (its tokens and every ShopOwned row
    go with it by cascade). The PrivacyRequest row survives, without its shop, as the record."""
    record = PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.SHOP_REDACT,
        webhook_event_id=event.pk,
        received_at=event.received_at,
    )
    if shop.is_installed:
        # Shopify sends shop/redact 48 hours after an uninstall; a shop that installed again in
        # between is a customer again, and erasing it now would destroy live data.
        record.summary = {"skipped": 1}
        record.completed_at = timezone.now()
        record.save(update_fields=["summary", "completed_at"])
        logger.warning("shop/redact for %s skipped: the shop is installed again", shop.domain)
        return
    summary = {provider.name: provider.erase_shop(shop) for provider in privacy_providers()}
    deleted, _ = Shop.objects.filter(pk=shop.pk).delete()
    summary["shop"] = {"rows": deleted}
    PrivacyRequest.objects.filter(pk=record.pk).update(summary=summary, completed_at=timezone.now())
    logger.info("shop/redact for %s: all data deleted", shop.domain)


def event_erase_if_shopper_erased(
    shop: Shop, event: WebhookEvent, *, customer_id: int | None, email: str
) -> bool:
    """A delivery about a shopper erased earlier (a late retry, say) was stored with their personal
    data; ingest kept it out of our tables, and this keeps it out of the event log."""
    if not shopper_is_suppressed(shop, customer_id=customer_id, email=email):
        return False
    WebhookEvent.objects.for_shop(shop).filter(pk=event.pk).update(
        body=REDACTED_BODY, redacted_at=timezone.now()
    )
    return True


def privacy_requests_for_shop(shop: Shop) -> list[PrivacyRequest]:
    return list(PrivacyRequest.objects.filter(shop=shop).order_by("-received_at", "-pk")[:200])


def privacy_request_get_for_shop(shop: Shop, request_pk: int) -> PrivacyRequest:
    return PrivacyRequest.objects.filter(shop=shop).get(pk=request_pk)


# --- What the webhooks app itself holds: stored event payloads and exports ----------------------


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def _mentions_shopper(body: str, ref: ShopperRef) -> bool:
    """Does this stored payload carry the shopper? By their id (as an integer or inside a gid),
    their email or phone anywhere in it, or one of the orders the request names."""
    try:
        payload = json.loads(body)
    except ValueError:
        return True  # matched textually and unreadable: erase rather than keep
    wanted_ids = {ref.customer_id, *ref.order_ids} - {None}
    for value in _scalars(payload):
        if isinstance(value, int) and not isinstance(value, bool) and value in wanted_ids:
            return True
        if isinstance(value, str):
            lowered = value.strip().lower()
            if (ref.email and lowered == ref.email) or (ref.phone and value.strip() == ref.phone):
                return True
            if lowered.startswith("gid://shopify/") and any(lowered.endswith(f"/{i}") for i in wanted_ids):
                return True
    return False


def _events_mentioning(shop: Shop, ref: ShopperRef) -> list[WebhookEvent]:
    needles = [str(value) for value in (ref.customer_id, *ref.order_ids) if value] + [
        value for value in (ref.email, ref.phone) if value
    ]
    if not needles:
        return []
    textual = Q()
    for needle in needles:
        textual |= Q(body__icontains=needle)
    candidates = WebhookEvent.objects.for_shop(shop).filter(textual).exclude(redacted_at__isnull=False)
    return [event for event in candidates if _mentions_shopper(event.body, ref)]


def webhook_events_export(shop: Shop, ref: ShopperRef) -> list[dict[str, Any]]:
    return [
        {"topic": event.topic, "received_at": event.received_at.isoformat(), "status": event.status}
        for event in _events_mentioning(shop, ref)
    ]


def webhook_events_erase(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    """Erase the shopper from stored payloads (including the erasure request's own), and delete
    earlier exports made for them. A payload not yet processed is not processed any more."""
    now = timezone.now()
    events = _events_mentioning(shop, ref)
    for event in events:
        updates: dict[str, Any] = {"body": REDACTED_BODY, "redacted_at": now}
        if event.status in (EventStatus.PENDING, EventStatus.FAILED):
            updates.update(status=EventStatus.IGNORED, note="shopper erased before processing")
        WebhookEvent.objects.for_shop(shop).filter(pk=event.pk).update(**updates)
    exports = 0
    customer_hash = _customer_id_hash(shop, ref)
    if customer_hash:
        exports = (
            PrivacyRequest.objects.filter(shop=shop, customer_id_hash=customer_hash)
            .exclude(export=None, customer_shopify_id=None)
            .update(export=None, customer_shopify_id=None)
        )
    return {"webhook_events": len(events), "exports": exports}


def webhook_events_erase_shop(shop: Shop) -> dict[str, int]:
    deleted, _ = WebhookEvent.objects.for_shop(shop).delete()
    exports = PrivacyRequest.objects.filter(shop=shop).exclude(export=None).update(export=None)
    return {"webhook_events": deleted, "exports": exports}


WEBHOOKS_PRIVACY_PROVIDER = PrivacyProvider(
    name="webhook_events",
    export_shopper=webhook_events_export,
    erase_shopper=webhook_events_erase,
    erase_shop=webhook_events_erase_shop,
)
