"""Shopify's privacy (compliance) topics as webhooks: parse the payload, hand the request to the
privacy app; and what this app itself holds on a shopper, the stored event payloads."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from commerce.records import require, shopify_id, text
from privacy.registry import PrivacyProvider, ShopperRef
from privacy.requests import privacy_data_request_fulfil, privacy_shop_redact, privacy_shopper_redact
from privacy.suppression import shopper_is_suppressed
from shop_app.models import Shop
from webhooks.models import EventStatus, WebhookEvent

logger = logging.getLogger(__name__)

# A payload erased in place: the event row stays (status, times) but holds no personal data.
REDACTED_BODY = json.dumps({"redacted": True})


def shopper_ref_from_payload(payload: dict[str, Any], orders_key: str) -> ShopperRef:
    customer = require(payload, "customer", "payload")
    raw_id = customer.get("id") if isinstance(customer, dict) else None
    return ShopperRef(
        customer_id=shopify_id(raw_id, "customer.id") if raw_id not in (None, "") else None,
        email=text(customer.get("email")).strip().lower() if isinstance(customer, dict) else "",
        phone=text(customer.get("phone")) if isinstance(customer, dict) else "",
        order_ids=tuple(shopify_id(value, orders_key) for value in payload.get(orders_key) or []),
    )


def customer_data_request_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    data_request = payload.get("data_request")
    request_id = data_request.get("id") if isinstance(data_request, dict) else None
    privacy_data_request_fulfil(
        shop,
        shopper_ref_from_payload(payload, "orders_requested"),
        received_at=event.received_at,
        webhook_event_id=event.pk,
        shopify_request_id=shopify_id(request_id, "data_request.id") if request_id else None,
    )


def customer_redact_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    privacy_shopper_redact(
        shop,
        shopper_ref_from_payload(payload, "orders_to_redact"),
        received_at=event.received_at,
        webhook_event_id=event.pk,
    )


def shop_redact_handle(shop: Shop, payload: dict[str, Any], event: WebhookEvent) -> None:
    privacy_shop_redact(shop, received_at=event.received_at, webhook_event_id=event.pk)


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


# --- What the webhooks app itself holds: stored event payloads ---------------------------------

# Where Shopify's payloads name a shopper, by key: a customer id, an order id (orders name their
# shopper), an email, a phone. Nothing else counts: a quantity, a product id or a location id that
# happens to equal a customer id is not the shopper.
_CUSTOMER_ID_KEYS = frozenset({"customer_id"})
_ORDER_ID_KEYS = frozenset({"order_id"})
_ORDER_LIST_KEYS = frozenset({"orders_requested", "orders_to_redact"})
_GID = re.compile(r"^gid://shopify/(Customer|Order)/(\d+)$")


def _identifier(
    key: str, parent: str, at_top: bool, top_kind: str | None, value: Any
) -> tuple[str, str] | None:
    """(kind, value) when `value`, found under `key` (in an object under `parent`), identifies a
    person: kind is customer, order, email or phone."""
    key = key.lower()
    kind = ""
    if key in _CUSTOMER_ID_KEYS or (key == "id" and parent == "customer"):
        kind = "customer"
    elif key in _ORDER_ID_KEYS:
        kind = "order"
    elif key == "id" and at_top and top_kind:
        kind = top_kind
    elif isinstance(value, str) and "email" in key:
        return "email", value.strip().lower()
    elif isinstance(value, str) and "phone" in key:
        return "phone", value.strip()
    elif isinstance(value, str) and (match := _GID.match(value.strip())):
        return match.group(1).lower(), match.group(2)
    return (kind, str(value)) if kind else None


def _identifiers(payload: Any, topic: str) -> Iterator[tuple[str, str]]:
    """Every place the payload identifies a person. The top-level id is a customer's in
    customers/* topics, an order's in orders/*."""
    top_kind = {"customers": "customer", "orders": "order"}.get(topic.split("/", 1)[0])

    def walk(value: Any, key: str, parent: str, depth: int) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for child_key, child in value.items():
                yield from walk(child, str(child_key), key, depth + 1)
        elif isinstance(value, list):
            for item in value:
                if key in _ORDER_LIST_KEYS and not isinstance(item, dict | list):
                    yield "order", str(item)
                else:
                    yield from walk(item, key, parent, depth)
        elif value is not None and not isinstance(value, bool):
            found = _identifier(key, parent, depth == 1, top_kind, value)
            if found:
                yield found

    yield from walk(payload, "", "", 0)


def _mentions_shopper(topic: str, body: str, ref: ShopperRef) -> bool:
    """Does this stored payload identify the shopper, in a place where payloads name a person?"""
    try:
        payload = json.loads(body)
    except ValueError:
        return True  # matched textually and unreadable: erase rather than keep
    wanted = {("customer", str(ref.customer_id))} if ref.customer_id else set()
    wanted |= {("order", str(order_id)) for order_id in ref.order_ids}
    if ref.email:
        wanted.add(("email", ref.email.strip().lower()))
    if ref.phone:
        wanted.add(("phone", ref.phone.strip()))
    return any(identifier in wanted for identifier in _identifiers(payload, topic))


def _events_naming(shop: Shop, ref: ShopperRef) -> list[WebhookEvent]:
    needles = [str(value) for value in (ref.customer_id, *ref.order_ids) if value] + [
        value for value in (ref.email, ref.phone) if value
    ]
    if not needles:
        return []
    textual = Q()
    for needle in needles:
        textual |= Q(body__icontains=needle)
    candidates = WebhookEvent.objects.for_shop(shop).filter(textual).exclude(redacted_at__isnull=False)
    return [event for event in candidates if _mentions_shopper(event.topic, event.body, ref)]


def _orders_named(events: list[WebhookEvent]) -> set[int]:
    """The orders these stored payloads identify (an orders/* payload's own id, an order_id)."""
    named: set[int] = set()
    for event in events:
        try:
            payload = json.loads(event.body)
        except ValueError:
            continue
        named |= {
            int(value)
            for kind, value in _identifiers(payload, event.topic)
            if kind == "order" and value.isdigit()
        }
    return named


def _events_mentioning(shop: Shop, ref: ShopperRef) -> list[WebhookEvent]:
    """The stored events that name the shopper, or one of their orders. A guest checkout names the
    shopper (by email) only in its orders/* payloads, and Shopify may not list it in
    orders_to_redact; its refunds/create names just the order, with the merchant's note beside it."""
    events = _events_naming(shop, ref)
    their_orders = _orders_named(events) - set(ref.order_ids)
    if not their_orders:
        return events
    return _events_naming(shop, replace(ref, order_ids=(*ref.order_ids, *sorted(their_orders))))


def webhook_events_export(shop: Shop, ref: ShopperRef) -> list[dict[str, Any]]:
    return [
        {"topic": event.topic, "received_at": event.received_at.isoformat(), "status": event.status}
        for event in _events_mentioning(shop, ref)
    ]


def webhook_events_erase(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    """Erase the shopper from stored payloads (including the erasure request's own), and the error
    text of those events. A payload not yet processed is not processed any more."""
    now = timezone.now()
    events = _events_mentioning(shop, ref)
    for event in events:
        updates: dict[str, Any] = {"body": REDACTED_BODY, "redacted_at": now, "last_error": ""}
        if event.status in (EventStatus.PENDING, EventStatus.FAILED):
            updates.update(status=EventStatus.IGNORED, note="shopper erased before processing")
        WebhookEvent.objects.for_shop(shop).filter(pk=event.pk).update(**updates)
    return {"webhook_events": len(events)}


def webhook_events_erase_shop(shop: Shop) -> dict[str, int]:
    deleted, _ = WebhookEvent.objects.for_shop(shop).delete()
    return {"webhook_events": deleted}


WEBHOOKS_PRIVACY_PROVIDER = PrivacyProvider(
    name="webhook_events",
    export_shopper=webhook_events_export,
    erase_shopper=webhook_events_erase,
    erase_shop=webhook_events_erase_shop,
)
