"""Shopify's three privacy requests, carried out over every registered provider and recorded.

The webhooks app parses the compliance payloads and calls these services; each records a
PrivacyRequest, the proof that the request arrived and when it was done.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from privacy.models import PrivacyKind, PrivacyRequest
from privacy.registry import PrivacyProvider, ShopperRef, privacy_provider_register, privacy_providers
from privacy.suppression import privacy_hash, shopper_is_suppressed
from shop_app.models import Shop

logger = logging.getLogger(__name__)


def _customer_id_hash(shop: Shop, ref: ShopperRef) -> str:
    return privacy_hash(shop, "customer", ref.customer_id) if ref.customer_id else ""


def _count(section: Any) -> int:
    if isinstance(section, dict):
        return sum(
            len(value) if isinstance(value, list) else int(value is not None) for value in section.values()
        )
    return len(section) if isinstance(section, list) else int(section is not None)


# --- customers/data_request --------------------------------------------------------------------


def shopper_data_export(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    """Everything we hold on the shopper, one section per registered provider."""
    return {
        "shop": shop.domain,
        "customer": {"id": ref.customer_id, "email": ref.email, "phone": ref.phone},
        "generated_at": timezone.now().isoformat(),
        "sections": {provider.name: provider.export_shopper(shop, ref) for provider in privacy_providers()},
    }


def privacy_data_request_fulfil(
    shop: Shop,
    ref: ShopperRef,
    *,
    received_at: datetime,
    webhook_event_id: int | None = None,
    shopify_request_id: int | None = None,
) -> PrivacyRequest:
    """Build the shopper's export and keep it for the merchant to download. A shopper erased
    earlier gets no export: we hold nothing personal on them, and building one would gather again
    what late deliveries may still carry."""
    erased = shopper_is_suppressed(shop, customer_id=ref.customer_id, email=ref.email)
    export = None if erased else shopper_data_export(shop, ref)
    request = PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.DATA_REQUEST,
        webhook_event_id=webhook_event_id,
        customer_shopify_id=None if erased else ref.customer_id,
        customer_id_hash=_customer_id_hash(shop, ref),
        shopify_request_id=shopify_request_id,
        received_at=received_at,
        completed_at=timezone.now(),
        summary=(
            {"shopper_erased_earlier": 1}
            if export is None
            else {name: _count(section) for name, section in export["sections"].items()}
        ),
        export=export,
    )
    logger.info(
        "customers/data_request for %s: %s", shop.domain, "erased earlier" if erased else "export ready"
    )
    return request


# --- customers/redact ----------------------------------------------------------------------------


def privacy_shopper_redact(
    shop: Shop, ref: ShopperRef, *, received_at: datetime, webhook_event_id: int | None = None
) -> PrivacyRequest:
    summary = {provider.name: provider.erase_shopper(shop, ref) for provider in privacy_providers()}
    request = PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.CUSTOMER_REDACT,
        webhook_event_id=webhook_event_id,
        customer_id_hash=_customer_id_hash(shop, ref),
        received_at=received_at,
        completed_at=timezone.now(),
        summary=summary,
    )
    logger.info("customers/redact for %s: done", shop.domain)
    return request


# --- shop/redact ---------------------------------------------------------------------------------


def privacy_shop_redact(
    shop: Shop, *, received_at: datetime, webhook_event_id: int | None = None
) -> PrivacyRequest:
    """Delete everything the shop's data, then the shop itself (its tokens and every ShopOwned row
    go with it by cascade). The PrivacyRequest row survives, without its shop, as the record."""
    record = PrivacyRequest.objects.create(
        shop=shop,
        shop_domain=shop.domain,
        kind=PrivacyKind.SHOP_REDACT,
        webhook_event_id=webhook_event_id,
        received_at=received_at,
    )
    if shop.is_installed:
        # Shopify sends shop/redact 48 hours after an uninstall; a shop that installed again in
        # between is a customer again, and erasing it now would destroy live data.
        record.summary = {"skipped": 1}
        record.completed_at = timezone.now()
        record.save(update_fields=["summary", "completed_at"])
        logger.warning("shop/redact for %s skipped: the shop is installed again", shop.domain)
        return record
    summary = {provider.name: provider.erase_shop(shop) for provider in privacy_providers()}
    deleted, _ = Shop.objects.filter(pk=shop.pk).delete()
    summary["shop"] = {"rows": deleted}
    PrivacyRequest.objects.filter(pk=record.pk).update(summary=summary, completed_at=timezone.now())
    logger.info("shop/redact for %s: all data deleted", shop.domain)
    record.refresh_from_db()
    return record


def privacy_request_subject(request: PrivacyRequest) -> str:
    """Who a request is about, in words for the merchant: the shopper's email or Shopify id while
    we hold the request's export, nothing personal once they were erased."""
    if request.kind == PrivacyKind.SHOP_REDACT:
        return "The whole shop"
    customer = (request.export or {}).get("customer") or {}
    if customer.get("email"):
        return str(customer["email"])
    if request.customer_shopify_id:
        return f"Customer {request.customer_shopify_id}"
    return "A shopper whose data was erased"


def privacy_requests_for_shop(shop: Shop) -> list[PrivacyRequest]:
    return list(PrivacyRequest.objects.filter(shop=shop).order_by("-received_at", "-pk")[:200])


def privacy_request_get_for_shop(shop: Shop, request_pk: int) -> PrivacyRequest:
    return PrivacyRequest.objects.filter(shop=shop).get(pk=request_pk)


# --- What this app itself holds: the exports of earlier data requests ---------------------------


def privacy_exports_export(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    # The exports themselves are what a data request hands over; say how many exist, not their data.
    customer_hash = _customer_id_hash(shop, ref)
    held = PrivacyRequest.objects.filter(shop=shop, customer_id_hash=customer_hash).exclude(export=None)
    return {"earlier_exports": held.count() if customer_hash else 0}


def privacy_exports_erase(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    """Delete exports made earlier for the shopper (the request records stay, anonymous)."""
    customer_hash = _customer_id_hash(shop, ref)
    if not customer_hash:
        return {"exports": 0}
    erased = (
        PrivacyRequest.objects.filter(shop=shop, customer_id_hash=customer_hash)
        .exclude(export=None, customer_shopify_id=None)
        .update(export=None, customer_shopify_id=None)
    )
    return {"exports": erased}


def privacy_exports_erase_shop(shop: Shop) -> dict[str, int]:
    erased = PrivacyRequest.objects.filter(shop=shop).exclude(export=None).update(export=None)
    return {"exports": erased}


PRIVACY_EXPORTS_PROVIDER = PrivacyProvider(
    name="privacy_exports",
    export_shopper=privacy_exports_export,
    erase_shopper=privacy_exports_erase,
    erase_shop=privacy_exports_erase_shop,
)


def privacy_exports_provider_register() -> None:
    privacy_provider_register(PRIVACY_EXPORTS_PROVIDER)
