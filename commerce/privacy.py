"""What commerce holds on a shopper, for the privacy registry (privacy.registry): the customer
record, orders with their lines and refunds, and the consent log; and, erasing a shop, everything
it holds for the shop, the catalog included."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from commerce.models import (
    Collection,
    CollectionMembership,
    ConsentLogEntry,
    Customer,
    InventoryLevel,
    Order,
    OrderLine,
    Product,
    Refund,
    RefundLine,
    SyncCursor,
    Variant,
)
from privacy.models import SuppressedShopper
from privacy.registry import PrivacyProvider, ShopperRef
from privacy.suppression import shopper_suppress
from shop_app.models import Shop

# Emails are stored normalized (commerce.records) and ShopperRef's is too (privacy.identifiers), so
# `=` compares them without regard to case, in the query that finds a shopper's rows and in the one
# that erases them alike.


def _shopper_customers(shop: Shop, ref: ShopperRef) -> Any:
    match = Q(pk__in=[])
    if ref.customer_id:
        match |= Q(shopify_id=ref.customer_id)
    if ref.email:
        match |= Q(email=ref.email)
    return Customer.objects.for_shop(shop).filter(match)


def _shopper_customer_ids(ref: ShopperRef, customers: list[Customer]) -> set[int]:
    return {c.shopify_id for c in customers} | ({ref.customer_id} if ref.customer_id else set())


def _shopper_emails(ref: ShopperRef, customers: list[Customer]) -> set[str]:
    return {c.email for c in customers if c.email} | ({ref.email} if ref.email else set())


def _shopper_orders(shop: Shop, ref: ShopperRef, customers: list[Customer]) -> Any:
    """The orders Shopify listed, those of the shopper's customer records, and guest orders under
    their email."""
    return Order.objects.for_shop(shop).filter(
        Q(shopify_id__in=ref.order_ids)
        | Q(customer_shopify_id__in=_shopper_customer_ids(ref, customers))
        | Q(email__in=_shopper_emails(ref, customers))
    )


def _money(value: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(value), "currency": currency}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def commerce_export_shopper(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    customers = list(_shopper_customers(shop, ref))
    customer_ids = _shopper_customer_ids(ref, customers)
    orders = list(_shopper_orders(shop, ref, customers).order_by("shopify_created_at"))
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
    """Orders stay as anonymous aggregates (amounts, lines, dates, country) and refunds as amounts;
    the profile, the consent log and the refunds' notes go; a hashed suppression entry keeps the
    shopper's data from coming back."""
    customers = list(_shopper_customers(shop, ref))
    customer_ids = _shopper_customer_ids(ref, customers)
    emails = _shopper_emails(ref, customers)
    orders = _shopper_orders(shop, ref, customers)
    # Read before anonymising: afterwards nothing ties these orders to the shopper. A refund may
    # have come before its order (no row yet), so the ids Shopify listed count too.
    order_ids = set(orders.values_list("shopify_id", flat=True)) | set(ref.order_ids)
    anonymised = orders.update(
        email="",
        customer=None,
        customer_shopify_id=None,
        shipping_city="",
        shipping_province="",
        shipping_zip="",
        redacted_at=timezone.now(),
    )
    # A note is free text: a merchant may have written the shopper's name or phone into it.
    notes = (
        Refund.objects.for_shop(shop).filter(order_shopify_id__in=order_ids).exclude(note="").update(note="")
    )
    consent, _ = ConsentLogEntry.objects.for_shop(shop).filter(customer_shopify_id__in=customer_ids).delete()
    profiles, _ = Customer.objects.for_shop(shop).filter(pk__in=[c.pk for c in customers]).delete()
    suppressed_ids: set[int | None] = set(customer_ids) or {None}
    for customer_id in suppressed_ids:
        for email in emails or {""}:
            shopper_suppress(shop, customer_id=customer_id, email=email)
    return {
        "orders_anonymised": anonymised,
        "refund_notes_cleared": notes,
        "profiles_deleted": profiles,
        "consent_entries_deleted": consent,
    }


def commerce_erase_shop(shop: Shop) -> dict[str, int]:
    """Everything commerce holds for the shop: its shoppers' data, and its catalog too (not
    personal data, but the shop's, and shop/redact asks for all of it)."""
    counts: dict[str, int] = {}
    # Children first, so that no SET_NULL or CASCADE surprises the counts.
    for model in (
        RefundLine,
        Refund,
        OrderLine,
        Order,
        ConsentLogEntry,
        Customer,
        CollectionMembership,
        Collection,
        Variant,
        Product,
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
