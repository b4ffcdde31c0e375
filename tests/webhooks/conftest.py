"""Delivering webhooks the way Shopify does: raw JSON bytes, signed, with Shopify's headers."""

import base64
import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from shop_app.models import Shop
from webhooks.models import WebhookEvent

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    """A recorded payload from tests/webhooks/payloads (a fresh copy each time)."""
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))


def sign(body: bytes, secret: str | None = None) -> str:
    digest = hmac.new((secret or settings.SHOPIFY_API_SECRET).encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_headers(
    shop_domain: str, topic: str, body: bytes, *, event_id: str | None = None, secret: str | None = None
) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        # Shopify emits the event just before it delivers it (nanoseconds, as Shopify writes them).
        "X-Shopify-Triggered-At": f"{timezone.now():%Y-%m-%dT%H:%M:%S.%f}789Z",
    }


def stored_event(
    shop: Shop, topic: str = "orders/create", body: dict[str, Any] | str = "{}", **fields: Any
) -> WebhookEvent:
    """An event as intake stores it, received now and pending unless `fields` say otherwise."""
    now = timezone.now()
    raw = body if isinstance(body, str) else json.dumps(body)
    defaults: dict[str, Any] = {"event_id": "e", "received_at": now, "available_at": now}
    return WebhookEvent.objects.create(shop=shop, topic=topic, body=raw, **{**defaults, **fields})


Deliver = Callable[..., Any]


@pytest.fixture
def deliver(client: Client, django_capture_on_commit_callbacks: Any) -> Deliver:
    """deliver(shop, topic, payload_or_bytes, event_id=..., secret=...): POST /webhooks/ as Shopify
    would, running what intake schedules after commit (the task runs eagerly in tests)."""

    def post(
        shop: Shop | str,
        topic: str,
        body: dict[str, Any] | bytes,
        *,
        event_id: str | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        domain = shop if isinstance(shop, str) else shop.domain
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {**webhook_headers(domain, topic, raw, event_id=event_id, secret=secret), **(headers or {})}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/webhooks/", data=raw, content_type="application/json", headers=sent)

    return post
