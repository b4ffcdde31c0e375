"""Ingest: apply Shopify's orders, customers, refunds, consent and stock to our tables.

One entry point per kind of data, whatever brought it (a webhook, reconciliation, the install
backfill). Each is idempotent and order-insensitive: state is applied only if it is newer than what
we hold (Shopify's `updated_at`), so a duplicate or a late, older delivery changes nothing.

The records and their adapters live in personalize/records.py and are re-exported here, so callers
need one import: `from commerce.ingest import order_record_from_graphql, order_upsert`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from commerce.models import ConsentLogEntry, Customer, InventoryLevel, Order, OrderLine, Refund, RefundLine
from commerce.records import (
    AddressRecord,
    CustomerRecord,
    EmailConsentRecord,
    IngestError,
    Money,
    OrderLineRecord,
    OrderRecord,
    RefundLineRecord,
    RefundRecord,
    customer_record_from_graphql,
    customer_record_from_webhook,
    order_record_from_graphql,
    order_record_from_webhook,
    refund_record_from_graphql,
    refund_record_from_webhook,
)
from privacy.suppression import shopper_is_suppressed
from shop_app.models import Shop

__all__ = [
    "AddressRecord",
    "CustomerRecord",
    "EmailConsentRecord",
    "IngestError",
    "Money",
    "OrderLineRecord",
    "OrderRecord",
    "RefundLineRecord",
    "RefundRecord",
    "consent_record",
    "customer_delete",
    "customer_record_from_graphql",
    "customer_record_from_webhook",
    "customer_upsert",
    "inventory_level_update",
    "order_record_from_graphql",
    "order_record_from_webhook",
    "order_upsert",
    "refund_record",
    "refund_record_from_graphql",
    "refund_record_from_webhook",
]

logger = logging.getLogger(__name__)


def _is_not_newer(incoming: datetime | None, held: datetime | None) -> bool:
    """True when the incoming state must not replace what we hold. Equal times are the same
    state delivered again. Unknown incoming time never overwrites a row we have."""
    if incoming is None:
        return True
    return held is not None and incoming <= held


def customer_get_for_shop(shop: Shop, shopify_id: int) -> Customer | None:
    return Customer.objects.for_shop(shop).filter(shopify_id=shopify_id).first()


def order_get_for_shop(shop: Shop, shopify_id: int) -> Order | None:
    return Order.objects.for_shop(shop).filter(shopify_id=shopify_id).first()


def _customer_fields(record: CustomerRecord) -> dict[str, object]:
    address = record.address or AddressRecord()
    fields: dict[str, object] = {
        "email": record.email,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "phone": record.phone,
        "tags": ", ".join(record.tags),
        "city": address.city,
        "province": address.province,
        "province_code": address.province_code,
        "country_code": address.country_code,
        "zip": address.zip,
        "shopify_created_at": record.created_at,
        "shopify_updated_at": record.updated_at,
    }
    if record.email_consent is not None:
        fields.update(
            email_marketing_state=record.email_consent.state,
            email_marketing_opt_in_level=record.email_consent.opt_in_level,
            email_consent_updated_at=record.email_consent.consent_updated_at,
        )
    return fields


def customer_upsert(shop: Shop, record: CustomerRecord, *, source: str = "") -> Customer:
    """Create or update the shopper, only with state newer than ours; log any consent change.
    A shopper we erased comes back without personal data; a shopper deleted in Shopify does not
    come back at all."""
    if shopper_is_suppressed(shop, customer_id=record.shopify_id, email=record.email):
        record = record.without_personal_data()
    with transaction.atomic():
        customer = (
            Customer.objects.for_shop(shop).select_for_update().filter(shopify_id=record.shopify_id).first()
        )
        if customer is None:
            try:
                with transaction.atomic():
                    customer = Customer.objects.create(
                        shop=shop, shopify_id=record.shopify_id, **_customer_fields(record)
                    )
            except IntegrityError:
                # Another worker created it between our read and our insert: apply as an update.
                customer = (
                    Customer.objects.for_shop(shop).select_for_update().get(shopify_id=record.shopify_id)
                )
            else:
                _consent_log(shop, record.shopify_id, record.email_consent, source)
                return customer
        if customer.deleted_at is not None:
            # A customers/update delivered after customers/delete (a retry, a backlog), or an
            # order carrying the shopper: Shopify never reuses a customer id, so nothing newer
            # can come for this one, and its personal data must not be written back.
            logger.info("customer %s: deleted in Shopify; update ignored", customer.shopify_id)
            return customer
        if _is_not_newer(record.updated_at, customer.shopify_updated_at):
            return customer
        for name, value in _customer_fields(record).items():
            setattr(customer, name, value)
        customer.save()
        _consent_log(shop, record.shopify_id, record.email_consent, source)
        return customer


# What customers/delete blanks: everything that says who the shopper is or how to reach them.
# The country stays (it is anonymous and feeds the shop's aggregates), as does the consent state
# the consent log records.
CUSTOMER_PERSONAL_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "tags",
    "city",
    "province",
    "province_code",
    "zip",
)


def customer_delete(shop: Shop, shopify_id: int) -> Customer:
    """customers/delete: the merchant deleted the shopper in Shopify. We keep the row (orders point
    at it, and it marks the shopper as deleted so that no later delivery brings them back) but no
    personal data. A shopper we never held gets such a row too: their customers/create may still
    be on its way (a retry, a backlog)."""
    with transaction.atomic():
        # Locked like customer_upsert, so an update in flight is applied before or ignored after.
        customer = Customer.objects.for_shop(shop).select_for_update().filter(shopify_id=shopify_id).first()
        if customer is None:
            try:
                with transaction.atomic():
                    return Customer.objects.create(
                        shop=shop, shopify_id=shopify_id, deleted_at=timezone.now()
                    )
            except IntegrityError:
                # customer_upsert created it between our read and our insert: delete that one.
                customer = Customer.objects.for_shop(shop).select_for_update().get(shopify_id=shopify_id)
        if customer.deleted_at is not None:
            return customer
        customer.deleted_at = timezone.now()
        for name in CUSTOMER_PERSONAL_FIELDS:
            setattr(customer, name, "")
        customer.save(update_fields=["deleted_at", *CUSTOMER_PERSONAL_FIELDS])
        return customer


def _consent_log(shop: Shop, customer_id: int, consent: EmailConsentRecord | None, source: str) -> None:
    if consent is None:
        return
    latest = (
        ConsentLogEntry.objects.for_shop(shop)
        .filter(customer_shopify_id=customer_id)
        .order_by("-consent_updated_at", "-recorded_at")
        .first()
    )
    if latest is not None and (latest.state, latest.opt_in_level) == (consent.state, consent.opt_in_level):
        return
    ConsentLogEntry.objects.get_or_create(
        shop=shop,
        customer_shopify_id=customer_id,
        state=consent.state,
        opt_in_level=consent.opt_in_level,
        consent_updated_at=consent.consent_updated_at,
        defaults={"source": source or "unknown"},
    )


def consent_record(
    shop: Shop, customer_id: int, consent: EmailConsentRecord, *, source: str
) -> ConsentLogEntry:
    """customers_email_marketing_consent/update: log the change, and set it on the shopper if it is
    newer than the consent we hold."""
    with transaction.atomic():
        entry, _ = ConsentLogEntry.objects.get_or_create(
            shop=shop,
            customer_shopify_id=customer_id,
            state=consent.state,
            opt_in_level=consent.opt_in_level,
            consent_updated_at=consent.consent_updated_at,
            defaults={"source": source},
        )
        customer = Customer.objects.for_shop(shop).select_for_update().filter(shopify_id=customer_id).first()
        if customer is not None and not _is_not_newer(
            consent.consent_updated_at, customer.email_consent_updated_at
        ):
            customer.email_marketing_state = consent.state
            customer.email_marketing_opt_in_level = consent.opt_in_level
            customer.email_consent_updated_at = consent.consent_updated_at
            customer.save(
                update_fields=[
                    "email_marketing_state",
                    "email_marketing_opt_in_level",
                    "email_consent_updated_at",
                ]
            )
        return entry


def _order_fields(record: OrderRecord, customer: Customer | None) -> dict[str, object]:
    address = record.shipping_address or AddressRecord()
    return {
        "name": record.name,
        "customer_shopify_id": record.customer_id,
        "customer": customer,
        "email": record.email,
        "currency": record.currency,
        "total_price": record.total_price.amount,
        "subtotal_price": record.subtotal_price.amount,
        "total_discounts": record.total_discounts.amount,
        "total_tax": record.total_tax.amount,
        "financial_status": record.financial_status,
        "fulfillment_status": record.fulfillment_status,
        "shipping_city": address.city,
        "shipping_province": address.province,
        "shipping_country_code": address.country_code,
        "shipping_zip": address.zip,
        "shopify_created_at": record.created_at,
        "shopify_updated_at": record.updated_at,
        "processed_at": record.processed_at,
        "cancelled_at": record.cancelled_at,
    }


def _order_lines_replace(shop: Shop, order: Order, record: OrderRecord) -> None:
    OrderLine.objects.for_shop(shop).filter(order=order).delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            shop=shop,
            order=order,
            shopify_id=line.shopify_id,
            product_id=line.product_id,
            variant_id=line.variant_id,
            sku=line.sku,
            title=line.title,
            quantity=line.quantity,
            unit_price=line.unit_price.amount,
            currency=line.unit_price.currency,
        )
        for line in record.lines
    )


def _order_is_not_newer(record: OrderRecord, triggered_at: datetime | None, order: Order) -> bool:
    if record.updated_at != order.shopify_updated_at or triggered_at is None:
        return _is_not_newer(record.updated_at, order.shopify_updated_at)
    # Same second (Shopify's updated_at has no more precision): the later emission wins.
    return order.state_triggered_at is None or triggered_at <= order.state_triggered_at


def order_upsert(
    shop: Shop, record: OrderRecord, *, source: str = "", triggered_at: datetime | None = None
) -> Order:
    """Create or update the order with its lines, its shopper and its money, only if the record is
    newer than the order we hold. Idempotent: the same record twice changes nothing.
    `triggered_at`, when the record came from a webhook, is its X-Shopify-Triggered-At."""
    if shopper_is_suppressed(shop, customer_id=record.customer_id, email=record.email):
        record = record.without_personal_data()
    with transaction.atomic():
        customer = None
        if record.customer is not None:
            customer = customer_upsert(shop, record.customer, source=source)
        elif record.customer_id is not None:
            customer = customer_get_for_shop(shop, record.customer_id)
        order = Order.objects.for_shop(shop).select_for_update().filter(shopify_id=record.shopify_id).first()
        if order is None:
            try:
                with transaction.atomic():
                    order = Order.objects.create(
                        shop=shop,
                        shopify_id=record.shopify_id,
                        state_triggered_at=triggered_at,
                        **_order_fields(record, customer),
                    )
            except IntegrityError:
                order = Order.objects.for_shop(shop).select_for_update().get(shopify_id=record.shopify_id)
            else:
                _order_lines_replace(shop, order, record)
                Refund.objects.for_shop(shop).filter(order_shopify_id=order.shopify_id, order=None).update(
                    order=order
                )
                return order
        if _order_is_not_newer(record, triggered_at, order):
            logger.info(
                "order %s: held state is as new as %s; unchanged", order.shopify_id, record.updated_at
            )
            return order
        for name, value in _order_fields(record, customer).items():
            setattr(order, name, value)
        order.state_triggered_at = triggered_at
        order.save()
        _order_lines_replace(shop, order, record)
        return order


def refund_record(shop: Shop, record: RefundRecord) -> Refund:
    """Record a refund and its lines once. Refunds do not change after they are made, so a second
    delivery returns the refund we hold."""
    with transaction.atomic():
        refund = Refund.objects.for_shop(shop).filter(shopify_id=record.shopify_id).first()
        if refund is not None:
            return refund
        order = order_get_for_shop(shop, record.order_id)
        currency = record.amount.currency or (order.currency if order else "")
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    shop=shop,
                    shopify_id=record.shopify_id,
                    order_shopify_id=record.order_id,
                    order=order,
                    amount=record.amount.amount,
                    currency=currency,
                    note=record.note,
                    shopify_created_at=record.created_at,
                    processed_at=record.processed_at,
                )
        except IntegrityError:
            return Refund.objects.for_shop(shop).get(shopify_id=record.shopify_id)
        RefundLine.objects.bulk_create(
            RefundLine(
                shop=shop,
                refund=refund,
                shopify_id=line.shopify_id,
                line_item_shopify_id=line.line_item_id,
                quantity=line.quantity,
                subtotal=line.subtotal.amount,
                currency=line.subtotal.currency or currency,
                restock_type=line.restock_type,
            )
            for line in record.lines
        )
        return refund


def inventory_level_update(
    shop: Shop,
    *,
    inventory_item_id: int,
    location_id: int,
    available: int | None,
    updated_at: datetime | None,
) -> InventoryLevel:
    """Stock of one item at one location, only if newer than the level we hold."""
    with transaction.atomic():
        level = (
            InventoryLevel.objects.for_shop(shop)
            .select_for_update()
            .filter(inventory_item_id=inventory_item_id, location_id=location_id)
            .first()
        )
        if level is None:
            try:
                with transaction.atomic():
                    return InventoryLevel.objects.create(
                        shop=shop,
                        inventory_item_id=inventory_item_id,
                        location_id=location_id,
                        available=available,
                        shopify_updated_at=updated_at,
                    )
            except IntegrityError:
                level = (
                    InventoryLevel.objects.for_shop(shop)
                    .select_for_update()
                    .get(inventory_item_id=inventory_item_id, location_id=location_id)
                )
        if _is_not_newer(updated_at, level.shopify_updated_at):
            return level
        level.available = available
        level.shopify_updated_at = updated_at
        level.save(update_fields=["available", "shopify_updated_at"])
        return level
