"""Ingest: apply Shopify's orders, customers, refunds, consent, catalog and stock to our tables.

One entry point per kind of data, whatever brought it (a webhook, reconciliation, the install
backfill). Each is idempotent and order-insensitive: state is applied only if it is newer than what
we hold (Shopify's `updated_at`), so a duplicate or a late, older delivery changes nothing.

The records and their adapters live in commerce/records.py and are re-exported here, so callers
need one import: `from commerce.ingest import order_record_from_graphql, order_upsert`.

Every row is found or created by one helper, `_row_locked_or_created`: read under a row lock, or
insert, and when a concurrent insert won the race, take its row as if it had been found.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q, Sum
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
    Variant,
)
from commerce.records import (
    AddressRecord,
    CollectionRecord,
    CustomerRecord,
    EmailConsentRecord,
    IngestError,
    Money,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    VariantRecord,
    collection_record_from_graphql,
    collection_record_from_webhook,
    customer_record_from_graphql,
    customer_record_from_webhook,
    order_record_from_graphql,
    order_record_from_webhook,
    product_record_from_graphql,
    product_record_from_webhook,
    refund_record_from_graphql,
    refund_record_from_webhook,
)
from privacy.suppression import shopper_is_suppressed
from shop_app.models import Shop
from shop_app.tenancy import ShopOwned

__all__ = [
    "AddressRecord",
    "CollectionRecord",
    "CustomerRecord",
    "EmailConsentRecord",
    "IngestError",
    "Money",
    "OrderLineRecord",
    "OrderRecord",
    "ProductRecord",
    "RefundLineRecord",
    "RefundRecord",
    "VariantRecord",
    "collection_delete",
    "collection_record_from_graphql",
    "collection_record_from_webhook",
    "collection_upsert",
    "consent_record",
    "customer_delete",
    "customer_record_from_graphql",
    "customer_record_from_webhook",
    "customer_upsert",
    "inventory_level_update",
    "order_record_from_graphql",
    "order_record_from_webhook",
    "order_upsert",
    "product_delete",
    "product_record_from_graphql",
    "product_record_from_webhook",
    "product_upsert",
    "refund_record",
    "refund_record_from_graphql",
    "refund_record_from_webhook",
]

logger = logging.getLogger(__name__)

_Row = TypeVar("_Row", bound=ShopOwned)


def _row_locked_or_created(
    model: type[_Row], shop: Shop, lookup: dict[str, Any], defaults: dict[str, Any]
) -> tuple[_Row, bool]:
    """The shop's row matching `lookup` (its unique key), locked until the transaction ends, or a
    new one made of `lookup` and `defaults`; and whether it was created. Two workers may both find
    nothing and insert: the loser's insert fails on the unique constraint, and it takes the
    winner's row, locked, as if it had found it, so that its state is applied as an update (newer
    wins) instead of being lost. Call inside transaction.atomic()."""
    manager = cast("models.Manager[_Row]", model._default_manager)
    rows = manager.filter(shop=shop, **lookup)
    row = rows.select_for_update().first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return manager.create(shop=shop, **lookup, **defaults), True
    except IntegrityError:
        return rows.select_for_update().get(), False


def _row_marked_deleted(model: type[_Row], shop: Shop, shopify_id: int) -> tuple[_Row, bool]:
    """The row deleted in Shopify, marked so (`deleted_at`), locked; created marked when we never
    held it (its create may still be on its way, and must not bring it back). Returns the row and
    whether this call marked it. Call inside transaction.atomic()."""
    now = timezone.now()
    row, created = _row_locked_or_created(model, shop, {"shopify_id": shopify_id}, {"deleted_at": now})
    if created:
        return row, True
    if row.deleted_at is not None:  # type: ignore[attr-defined]
        return row, False
    row.deleted_at = now  # type: ignore[attr-defined]
    row.save(update_fields=["deleted_at"])
    return row, True


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
        customer, created = _row_locked_or_created(
            Customer, shop, {"shopify_id": record.shopify_id}, _customer_fields(record)
        )
        if created:
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
        customer, marked = _row_marked_deleted(Customer, shop, shopify_id)
        held = [name for name in CUSTOMER_PERSONAL_FIELDS if getattr(customer, name)]
        if marked and held:
            for name in held:
                setattr(customer, name, "")
            customer.save(update_fields=held)
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


def _state_is_not_newer(
    updated_at: datetime | None,
    triggered_at: datetime | None,
    held_updated_at: datetime | None,
    held_triggered_at: datetime | None,
) -> bool:
    """_is_not_newer, with a tie broken by when Shopify emitted each state (a webhook's
    X-Shopify-Triggered-At, sub-second), when both are known."""
    if updated_at != held_updated_at or triggered_at is None:
        return _is_not_newer(updated_at, held_updated_at)
    # Same second (Shopify's updated_at has no more precision): the later emission wins.
    return held_triggered_at is None or triggered_at <= held_triggered_at


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
        order, created = _row_locked_or_created(
            Order,
            shop,
            {"shopify_id": record.shopify_id},
            {"state_triggered_at": triggered_at, **_order_fields(record, customer)},
        )
        if created:
            _order_lines_replace(shop, order, record)
            Refund.objects.for_shop(shop).filter(order_shopify_id=order.shopify_id, order=None).update(
                order=order
            )
            return order
        if _state_is_not_newer(
            record.updated_at, triggered_at, order.shopify_updated_at, order.state_triggered_at
        ):
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
        refund, created = _row_locked_or_created(
            Refund,
            shop,
            {"shopify_id": record.shopify_id},
            {
                "order_shopify_id": record.order_id,
                "order": order,
                "amount": record.amount.amount,
                "currency": currency,
                "note": record.note,
                "shopify_created_at": record.created_at,
                "processed_at": record.processed_at,
            },
        )
        if not created:
            return refund  # recorded by a concurrent delivery
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
    triggered_at: datetime | None = None,
) -> InventoryLevel:
    """Stock of one item at one location, only if newer than the level we hold; the item's
    variants then follow the sum of its levels (_variants_follow_levels). `triggered_at`, when the
    level came from a webhook, is its X-Shopify-Triggered-At: two changes in one second are
    ordered by it, as orders are."""
    with transaction.atomic():
        level, created = _row_locked_or_created(
            InventoryLevel,
            shop,
            {"inventory_item_id": inventory_item_id, "location_id": location_id},
            {"available": available, "shopify_updated_at": updated_at, "state_triggered_at": triggered_at},
        )
        if not created:
            if _state_is_not_newer(
                updated_at, triggered_at, level.shopify_updated_at, level.state_triggered_at
            ):
                return level
            level.available = available
            level.shopify_updated_at = updated_at
            level.state_triggered_at = triggered_at
            level.save(update_fields=["available", "shopify_updated_at", "state_triggered_at"])
        _variants_follow_levels(shop, inventory_item_id)
        return level


# --- The catalog ------------------------------------------------------------------------------
#
# What a variant has available to sell (Variant.available) is Shopify's available quantity summed
# over the shop's locations. Two sources tell it, each as of a time kept in available_updated_at:
#
# - a product (webhook payload or GraphQL node) carries each variant's total
#   (inventory_quantity, inventoryQuantity), as of the variant's updated_at, which a stock change
#   moves;
# - inventory_levels/update carries one location's level, as of its updated_at. We keep each
#   level (InventoryLevel), and the variants of its item take the sum of the levels we hold for
#   it, as of the newest.
#
# Whichever is newer wins; on a tie the levels do (they are about stock and nothing else). The sum
# is exact when we hold a level for every location that stocks the item: always in a shop with
# one location (devstore's). In a shop with several, a location that has not reported since the
# product's last total is missing from the sum, which then reads low until it reports: a
# recommendation errs towards leaving out what might be in stock. (Reading every location's level
# in the backfill and reconciliation, InventoryItem.inventoryLevels, would close that gap; devstore
# does not serve it yet.)


def _tags_text(tags: Iterable[str]) -> str:
    """Each tag between commas (see Product.tags)."""
    joined = ",".join(tags)
    return f",{joined}," if joined else ""


def _variants_follow_levels(shop: Shop, inventory_item_id: int) -> None:
    variants = Variant.objects.for_shop(shop).filter(inventory_item_id=inventory_item_id)
    # Locked before the levels are summed: of two levels of one item written at once, the second
    # waits here and then sums with the first committed, instead of overwriting it with a sum that
    # does not include it.
    if not list(variants.select_for_update().order_by("pk").values_list("pk", flat=True)):
        return  # the product is not in yet; product_upsert reads the levels when it arrives
    levels = InventoryLevel.objects.for_shop(shop).filter(inventory_item_id=inventory_item_id)
    stock = levels.aggregate(total=Sum("available"), newest=Max("shopify_updated_at"))
    newest = stock["newest"]
    not_newer_held = Q(available_updated_at__isnull=True)
    if newest is not None:
        not_newer_held |= Q(available_updated_at__lte=newest)
    variants.filter(not_newer_held).update(available=stock["total"], available_updated_at=newest)


StockState = tuple[int | None, datetime | None]


def _newest_stock(*states: StockState | None) -> StockState:
    """Of the stock states given (available, as of), most trusted first, the newest; of two equally
    new, the first. A state without a time is older than any with one."""
    best: StockState | None = None
    for state in states:
        if state is None or state[0] is None:
            continue
        if best is None or (state[1] is not None and (best[1] is None or state[1] > best[1])):
            best = state
    return best or (None, None)


def _variants_replace(shop: Shop, product: Product, record: ProductRecord) -> None:
    """Make the product's variants those of the record, in one upsert and one delete, keeping for
    each the newest stock state of the three we may know: the levels we hold for its inventory
    item, what we hold on the variant, and the record's total."""
    held = {
        variant.shopify_id: variant
        for variant in Variant.objects.for_shop(shop)
        .filter(product=product)
        .select_for_update()
        .order_by("pk")
    }
    item_ids = [variant.inventory_item_id for variant in record.variants if variant.inventory_item_id]
    levels: dict[int, StockState] = {
        item_id: (total, newest)
        for item_id, total, newest in InventoryLevel.objects.for_shop(shop)
        .filter(inventory_item_id__in=item_ids)
        .values("inventory_item_id")
        .annotate(total=Sum("available"), newest=Max("shopify_updated_at"))
        .values_list("inventory_item_id", "total", "newest")
    }
    rows = []
    for variant in record.variants:
        before = held.get(variant.shopify_id)
        available, as_of = _newest_stock(
            levels.get(variant.inventory_item_id) if variant.inventory_item_id else None,
            (before.available, before.available_updated_at) if before else None,
            (variant.inventory_quantity, variant.updated_at or record.updated_at),
        )
        rows.append(
            Variant(
                shop=shop,
                product=product,
                shopify_id=variant.shopify_id,
                title=variant.title,
                position=variant.position,
                options=variant.options,
                price=variant.price.amount,
                currency=variant.price.currency,
                compare_at_price=variant.compare_at_price.amount if variant.compare_at_price else None,
                sku=variant.sku,
                inventory_item_id=variant.inventory_item_id,
                available=available,
                available_updated_at=as_of,
                shopify_updated_at=variant.updated_at,
            )
        )
    Variant.objects.for_shop(shop).filter(product=product).exclude(
        shopify_id__in=[variant.shopify_id for variant in record.variants]
    ).delete()
    Variant.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["shop", "shopify_id"],
        update_fields=[
            "product",
            "title",
            "position",
            "options",
            "price",
            "currency",
            "compare_at_price",
            "sku",
            "inventory_item_id",
            "available",
            "available_updated_at",
            "shopify_updated_at",
        ],
    )


def _product_fields(record: ProductRecord) -> dict[str, object]:
    return {
        "title": record.title,
        "handle": record.handle,
        "product_type": record.product_type,
        "vendor": record.vendor,
        "tags": _tags_text(record.tags),
        "status": record.status,
        "image_url": record.image_url,
        "shopify_created_at": record.created_at,
        "shopify_updated_at": record.updated_at,
    }


def product_get_for_shop(shop: Shop, shopify_id: int) -> Product | None:
    return Product.objects.for_shop(shop).filter(shopify_id=shopify_id).first()


def product_upsert(shop: Shop, record: ProductRecord, *, triggered_at: datetime | None = None) -> Product:
    """Create or update the product and replace its variants, only if the record is newer than the
    product we hold. Idempotent; a product deleted in Shopify stays deleted. `triggered_at`, when
    the record came from a webhook, is its X-Shopify-Triggered-At."""
    with transaction.atomic():
        product, created = _row_locked_or_created(
            Product,
            shop,
            {"shopify_id": record.shopify_id},
            {"state_triggered_at": triggered_at, **_product_fields(record)},
        )
        if created:
            # Collections may have listed it before it arrived.
            CollectionMembership.objects.for_shop(shop).filter(
                product_shopify_id=product.shopify_id, product=None
            ).update(product=product)
        else:
            if product.deleted_at is not None:
                # A products/update delivered after products/delete (a retry, a backlog): Shopify
                # never reuses a product id, so nothing newer can come for this one.
                logger.info("product %s: deleted in Shopify; update ignored", product.shopify_id)
                return product
            if _state_is_not_newer(
                record.updated_at, triggered_at, product.shopify_updated_at, product.state_triggered_at
            ):
                return product
            for name, value in _product_fields(record).items():
                setattr(product, name, value)
            product.state_triggered_at = triggered_at
            product.save()
        _variants_replace(shop, product, record)
        return product


def product_delete(shop: Shop, shopify_id: int) -> Product:
    """products/delete: the row stays, marked deleted, so that no late delivery brings the product
    back; its variants and memberships go. A product we never held gets such a row too: its
    products/create may still be on its way."""
    with transaction.atomic():
        product, _ = _row_marked_deleted(Product, shop, shopify_id)
        Variant.objects.for_shop(shop).filter(product=product).delete()
        CollectionMembership.objects.for_shop(shop).filter(product_shopify_id=shopify_id).delete()
        return product


def _collection_members_replace(
    shop: Shop, collection: Collection, product_ids: tuple[int, ...], as_of: datetime | None
) -> None:
    wanted = set(product_ids)
    memberships = CollectionMembership.objects.for_shop(shop).filter(collection=collection)
    memberships.exclude(product_shopify_id__in=wanted).delete()
    missing = wanted - set(memberships.values_list("product_shopify_id", flat=True))
    products = dict(
        Product.objects.for_shop(shop).filter(shopify_id__in=missing).values_list("shopify_id", "pk")
    )
    CollectionMembership.objects.bulk_create(
        (
            CollectionMembership(
                shop=shop,
                collection=collection,
                product_shopify_id=product_id,
                product_id=products.get(product_id),
            )
            for product_id in sorted(missing)
        ),
        ignore_conflicts=True,
    )
    collection.members_updated_at = as_of
    collection.save(update_fields=["members_updated_at"])


def collection_get_for_shop(shop: Shop, shopify_id: int) -> Collection | None:
    return Collection.objects.for_shop(shop).filter(shopify_id=shopify_id).first()


def collection_upsert(shop: Shop, record: CollectionRecord) -> Collection:
    """Create or update the collection if the record is newer than what we hold, and replace its
    members when the record carries them (a GraphQL read does; a webhook does not) and they are at
    least as new as the members we hold. A collection deleted in Shopify stays deleted."""
    fields = {"handle": record.handle, "title": record.title, "shopify_updated_at": record.updated_at}
    with transaction.atomic():
        collection, created = _row_locked_or_created(
            Collection, shop, {"shopify_id": record.shopify_id}, fields
        )
        if collection.deleted_at is not None:
            logger.info("collection %s: deleted in Shopify; update ignored", collection.shopify_id)
            return collection
        if not created and not _is_not_newer(record.updated_at, collection.shopify_updated_at):
            for name, value in fields.items():
                setattr(collection, name, value)
            collection.save(update_fields=list(fields))
        # Equal times replace the members: a read at the same updatedAt holds the same members, or
        # (two changes in one second) the later read holds the later ones.
        if record.product_ids is not None and not (
            record.updated_at is not None
            and collection.members_updated_at is not None
            and record.updated_at < collection.members_updated_at
        ):
            _collection_members_replace(shop, collection, record.product_ids, record.updated_at)
        return collection


def collection_delete(shop: Shop, shopify_id: int) -> Collection:
    """collections/delete: marked deleted (a late collections/update cannot bring it back), members
    gone."""
    with transaction.atomic():
        collection, _ = _row_marked_deleted(Collection, shop, shopify_id)
        CollectionMembership.objects.for_shop(shop).filter(collection=collection).delete()
        return collection
