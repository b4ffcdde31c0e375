"""What commerce holds on a shopper, for the privacy registry (privacy.registry): the customer
record, orders with their lines and refunds, and the consent log."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from commerce.models import (
    ConsentLogEntry,
    Customer,
    InventoryLevel,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    SyncCursor,
)
from privacy.models import SuppressedShopper
from privacy.registry import PrivacyProvider, ShopperRef
from privacy.suppression import shopper_suppress
from shop_app.models import Shop


def _shopper_orders(shop: Shop, ref: ShopperRef) -> Any:
    match = Q(shopify_id__in=ref.order_ids)
    if ref.customer_id:
        match |= Q(customer_shopify_id=ref.customer_id)
    if ref.email:
        match |= Q(email__iexact=ref.email)
    return Order.objects.for_shop(shop).filter(match)


def _shopper_customers(shop: Shop, ref: ShopperRef) -> Any:
    match = Q(pk__in=[])
    if ref.customer_id:
        match |= Q(shopify_id=ref.customer_id)
    if ref.email:
        match |= Q(email__iexact=ref.email)
    return Customer.objects.for_shop(shop).filter(match)


def _money(value: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(value), "currency": currency}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def commerce_export_shopper(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    customers = list(_shopper_customers(shop, ref))
    customer_ids = {c.shopify_id for c in customers} | ({ref.customer_id} if ref.customer_id else set())
    orders = list(_shopper_orders(shop, ref).order_by("shopify_created_at"))
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.for_shop(shop).filter(order__in=orders).order_by("pk"):
        lines_by_order[line.order_id].append(line)
    refunds_by_order: dict[int, list[Refund]] = defaultdict(list)
    for refund in Refund.objects.for_shop(shop).filter(order__in=orders).order_by("shopify_created_at"):
        if refund.order_id is not None:
            refunds_by_order[refund.order_id].append(refund)
    return {
        "profile": [
            {
                "id": c.shopify_id,
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "phone": c.phone,
                "tags": c.tags,
                "address": {
                    "city": c.city,
                    "province": c.province,
                    "country_code": c.country_code,
                    "zip": c.zip,
                },
                "email_marketing": {
                    "state": c.email_marketing_state,
                    "opt_in_level": c.email_marketing_opt_in_level,
                    "updated_at": _iso(c.email_consent_updated_at),
                },
                "created_at": _iso(c.shopify_created_at),
                "updated_at": _iso(c.shopify_updated_at),
            }
            for c in customers
        ],
        "orders": [
            {
                "id": o.shopify_id,
                "name": o.name,
                "email": o.email,
                "created_at": _iso(o.shopify_created_at),
                "cancelled_at": _iso(o.cancelled_at),
                "financial_status": o.financial_status,
                "fulfillment_status": o.fulfillment_status,
                "total_price": _money(o.total_price, o.currency),
                "shipping_address": {
                    "city": o.shipping_city,
                    "province": o.shipping_province,
                    "country_code": o.shipping_country_code,
                    "zip": o.shipping_zip,
                },
                "lines": [
                    {
                        "title": line.title,
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unit_price": _money(line.unit_price, line.currency),
                    }
                    for line in lines_by_order[o.pk]
                ],
                "refunds": [
                    {
                        "id": r.shopify_id,
                        "amount": _money(r.amount, r.currency),
                        "created_at": _iso(r.shopify_created_at),
                    }
                    for r in refunds_by_order[o.pk]
                ],
            }
            for o in orders
        ],
        "consent_log": [
            {
                "state": entry.state,
                "opt_in_level": entry.opt_in_level,
                "consent_updated_at": _iso(entry.consent_updated_at),
                "source": entry.source,
                "recorded_at": _iso(entry.recorded_at),
            }
            for entry in ConsentLogEntry.objects.for_shop(shop)
            .filter(customer_shopify_id__in=customer_ids)
            .order_by("recorded_at")
        ],
    }


def commerce_erase_shopper(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    """Orders stay as anonymous aggregates (amounts, lines, dates, country); the profile and the
    consent log go; a hashed suppression entry keeps the shopper's data from coming back."""
    customers = list(_shopper_customers(shop, ref))
    customer_ids = {c.shopify_id for c in customers} | ({ref.customer_id} if ref.customer_id else set())
    emails = {c.email.lower() for c in customers if c.email} | ({ref.email} if ref.email else set())
    orders = _shopper_orders(shop, ref).filter(
        Q(customer_shopify_id__in=customer_ids) | Q(shopify_id__in=ref.order_ids) | Q(email__in=emails)
    )
    anonymised = orders.update(
        email="",
        customer=None,
        customer_shopify_id=None,
        shipping_city="",
        shipping_province="",
        shipping_zip="",
        redacted_at=timezone.now(),
    )
    consent, _ = ConsentLogEntry.objects.for_shop(shop).filter(customer_shopify_id__in=customer_ids).delete()
    profiles, _ = Customer.objects.for_shop(shop).filter(pk__in=[c.pk for c in customers]).delete()
    for customer_id in customer_ids or {None}:
        for email in emails or {""}:
            shopper_suppress(shop, customer_id=customer_id, email=email)
    return {"orders_anonymised": anonymised, "profiles_deleted": profiles, "consent_entries_deleted": consent}


def commerce_erase_shop(shop: Shop) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Children first, so that no SET_NULL or CASCADE surprises the counts.
    for model in (
        RefundLine,
        Refund,
        OrderLine,
        Order,
        ConsentLogEntry,
        Customer,
        InventoryLevel,
        SuppressedShopper,
        SyncCursor,
    ):
        deleted, _ = model.objects.for_shop(shop).delete()
        counts[model._meta.model_name or model.__name__] = deleted
    return counts


COMMERCE_PRIVACY_PROVIDER = PrivacyProvider(
    name="commerce",
    export_shopper=commerce_export_shopper,
    erase_shopper=commerce_erase_shopper,
    erase_shop=commerce_erase_shop,
)
