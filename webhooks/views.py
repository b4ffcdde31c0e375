"""POST /webhooks/: every Shopify topic arrives here."""

import logging

from django.conf import settings
from django.db import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shop_app.domains import shop_domain_normalize
from webhooks.intake import IntakeOutcome, WebhookDelivery, triggered_at_parse, webhook_event_store
from webhooks.verify import webhook_signature_is_valid

logger = logging.getLogger(__name__)


def _answer(status: int, outcome: str) -> JsonResponse:
    return JsonResponse({"outcome": outcome}, status=status)


def _body_within_limit(request: HttpRequest) -> bytes | None:
    """The raw body, or None past WEBHOOK_MAX_BODY_BYTES (refused on the declared length before
    reading anything, and on what was actually read)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return body if len(body) <= limit else None


# The longest value each header may have: the width of the column that keeps it.
HEADER_LIMITS = {
    "X-Shopify-Topic": 128,
    "X-Shopify-Event-Id": 255,
    "X-Shopify-Webhook-Id": 255,
    "X-Shopify-API-Version": 32,
}


def _header_too_long(request: HttpRequest) -> tuple[str, int] | None:
    for name, limit in HEADER_LIMITS.items():
        if len(request.headers.get(name, "").strip()) > limit:
            return name, limit
    return None


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest) -> JsonResponse:
    """In this order: cap the size, verify the HMAC over the raw bytes, check the shop domain,
    store, answer. The order matters: nothing unverified is parsed or stored."""
    body = _body_within_limit(request)
    if body is None:
        return _answer(413, "too_large")

    if not webhook_signature_is_valid(body, request.headers.get("X-Shopify-Hmac-Sha256")):
        logger.warning("webhook refused: bad or missing HMAC")
        return _answer(401, "unauthorized")

    shop_domain = shop_domain_normalize(request.headers.get("X-Shopify-Shop-Domain", ""))
    topic = request.headers.get("X-Shopify-Topic", "").strip()
    if shop_domain is None or not topic:
        logger.warning("webhook refused: missing shop domain or topic")
        return _answer(400, "bad_request")

    too_long = _header_too_long(request)
    if too_long:
        # Refused before anything is stored: the column could not hold it, and a 503 would have
        # Shopify retry a delivery that can never be stored.
        logger.warning("webhook refused: header %s longer than %s characters", *too_long)
        return _answer(400, "bad_request")

    delivery = WebhookDelivery(
        shop_domain=shop_domain,
        topic=topic,
        event_id=request.headers.get("X-Shopify-Event-Id", "").strip(),
        webhook_id=request.headers.get("X-Shopify-Webhook-Id", "").strip(),
        api_version=request.headers.get("X-Shopify-API-Version", "").strip(),
        triggered_at=triggered_at_parse(request.headers.get("X-Shopify-Triggered-At", "")),
        body=body,
    )
    try:
        outcome, _ = webhook_event_store(delivery)
    except DatabaseError:
        # Not stored, so not acknowledged: Shopify retries for four hours.
        logger.exception("webhook %s for %s: database unavailable, answered 503", topic, shop_domain)
        return _answer(503, "unavailable")
    return _answer(404 if outcome is IntakeOutcome.UNKNOWN_SHOP_REFUSED else 200, outcome.value)
