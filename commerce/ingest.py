"""Ingest: apply Shopify's orders, customers, refunds, consent, catalog and stock to our tables.

One entry point per kind of data, whatever brought it (a webhook, reconciliation, the install
backfill). Each is idempotent and order-insensitive: state is applied only if it is newer than what
we hold (Shopify's `updated_at`), so a duplicate or a late, older delivery changes nothing.

The records and their adapters live in commerce/records.py and are re-exported here, so callers
need one import: `from commerce.ingest import order_record_from_graphql, order_upsert`.

Every row is found or created by one helper, `_row_locked_or_created`: read under a row lock, or
insert, and when a concurrent insert won the race, take its row as if it had been found.

Customers and orders, which arrive by the thousand (the install backfill, a busy shop's webhooks),
are set-based: `customers_upsert` and `orders_upsert` take many records of one shop and cost a few
queries per table however many there are. They apply the records in turn, in Python, to the rows
held (read under lock in one query), so the rows they leave are those one call per record would
leave; `customer_upsert` and `order_upsert` are the same functions for one record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from django.db import IntegrityError, models, transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from commerce.catalog_memory import catalog_changed
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
from privacy.models import SuppressedShopper
from privacy.suppression import privacy_hash
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
    "customers_upsert",
    "inventory_level_update",
    "order_record_from_graphql",
    "order_record_from_webhook",
    "order_upsert",
    "orders_upsert",
    "product_delete",
    "product_record_from_graphql",
    "product_record_from_webhook",
    "product_upsert",
    "refund_record",
    "refund_record_from_graphql",
    "refund_record_from_webhook",
    "shoppers_suppressed",
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


# --- Set-based upserts ---------------------------------------------------------------------------

# How many times a set is applied again after a concurrent transaction inserted one of its new rows
# first (see _records_applied). Each round finds more rows held, so two are nearly always enough.
INSERT_RACE_ROUNDS = 3


@dataclass
class _Applied(Generic[_Row]):
    """What applying records in turn to the rows held made: the rows by Shopify id (held or new),
    the ids of the new rows and of the held rows that took a newer state."""

    rows: dict[int, _Row]
    created: set[int] = field(default_factory=set)
    changed: set[int] = field(default_factory=set)

    def take(self, shopify_id: int, row: _Row | None = None) -> None:
        """Record that the row of `shopify_id` takes the record's state: `row` when it is new."""
        if row is not None:
            self.rows[shopify_id] = row
            self.created.add(shopify_id)
        elif shopify_id not in self.created:
            self.changed.add(shopify_id)


def _rows_locked(model: type[_Row], shop: Shop, shopify_ids: Iterable[int]) -> dict[int, _Row]:
    """The shop's rows of these Shopify ids, by id, locked until the transaction ends (in pk
    order, as every locker takes them, so that two sets never wait on each other in a cycle)."""
    manager = cast("models.Manager[_Row]", model._default_manager)
    rows = manager.filter(shop=shop, shopify_id__in=set(shopify_ids)).select_for_update().order_by("pk")
    return {row.shopify_id: row for row in rows}  # type: ignore[attr-defined]


def _fields_to_update(model: type[models.Model]) -> list[str]:
    """Every column of a row but its identity (pk, shop, Shopify id): what an update writes."""
    return [
        item.name
        for item in model._meta.concrete_fields
        if not item.primary_key and item.name not in ("shop", "shopify_id")
    ]


def _records_applied(
    model: type[_Row],
    shop: Shop,
    shopify_ids: set[int],
    apply: Callable[[dict[int, _Row]], _Applied[_Row]],
) -> _Applied[_Row]:
    """Apply records to the shop's rows of `shopify_ids`, held under lock, and write the outcome:
    one insert for the new rows, one upsert for the held rows that changed. A concurrent
    transaction may insert one of our new rows first; our insert then fails on the unique
    constraint, and the set is applied again over the rows as they are now, the winner's row
    among them, so that our state is applied to it as an update (newer wins) instead of being lost,
    as _row_locked_or_created does for one row. Call inside transaction.atomic()."""
    manager = cast("models.Manager[_Row]", model._default_manager)
    for round_number in range(1, INSERT_RACE_ROUNDS + 1):
        applied = apply(_rows_locked(model, shop, shopify_ids))
        try:
            with transaction.atomic():
                # In Shopify id order, as a concurrent set inserts them: the second waits for the
                # first on the first row they share instead of each holding one the other needs.
                manager.bulk_create([applied.rows[shopify_id] for shopify_id in sorted(applied.created)])
        except IntegrityError:
            if round_number == INSERT_RACE_ROUNDS:
                raise
            continue
        break
    if applied.changed:
        # INSERT ... ON CONFLICT DO UPDATE: one statement for every changed row, which we hold
        # locked. Written from copies without a pk, so that the conflict is on (shop, Shopify id).
        manager.bulk_create(
            [_unsaved_copy(applied.rows[shopify_id]) for shopify_id in sorted(applied.changed)],
            update_conflicts=True,
            unique_fields=["shop", "shopify_id"],
            update_fields=_fields_to_update(model),
        )
    return applied


def _unsaved_copy(row: _Row) -> _Row:
    """The row's values in a new instance without its pk."""
    return type(row)(
        **{
            item.attname: getattr(row, item.attname)
            for item in row._meta.concrete_fields
            if not item.primary_key
        }
    )


def shoppers_suppressed(
    shop: Shop, shoppers: Iterable[tuple[int | None, str]]
) -> set[tuple[int | None, str]]:
    """Of these (customer id, email) pairs, those of shoppers we erased: privacy.suppression's
    shopper_is_suppressed for many pairs, in one query."""
    pairs = set(shoppers)
    id_hashes = {
        customer_id: privacy_hash(shop, "customer", customer_id) for customer_id, _ in pairs if customer_id
    }
    email_hashes = {email: privacy_hash(shop, "email", email) for _, email in pairs if email}
    if not id_hashes and not email_hashes:
        return set()
    found = SuppressedShopper.objects.for_shop(shop).filter(
        Q(customer_id_hash__in=id_hashes.values()) | Q(email_hash__in=email_hashes.values())
    )
    found_ids, found_emails = set(), set()
    for customer_id_hash, email_hash in found.values_list("customer_id_hash", "email_hash"):
        found_ids.add(customer_id_hash)
        found_emails.add(email_hash)
    return {
        (customer_id, email)
        for customer_id, email in pairs
        if (customer_id and id_hashes[customer_id] in found_ids)
        or (email and email_hashes[email] in found_emails)
    }


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
    return customers_upsert(shop, [record], source=source)[0]


def customers_upsert(shop: Shop, records: Sequence[CustomerRecord], *, source: str = "") -> list[Customer]:
    """customer_upsert for each record in turn, in a few queries however many there are; returns
    each record's row."""
    if not records:
        return []
    suppressed = shoppers_suppressed(shop, ((record.shopify_id, record.email) for record in records))
    records = [
        record.without_personal_data() if (record.shopify_id, record.email) in suppressed else record
        for record in records
    ]
    consents: list[tuple[int, EmailConsentRecord]] = []

    def apply(held: dict[int, Customer]) -> _Applied[Customer]:
        applied = _Applied(held)
        consents.clear()
        for record in records:
            customer = applied.rows.get(record.shopify_id)
            if customer is None:
                applied.take(
                    record.shopify_id,
                    Customer(shop=shop, shopify_id=record.shopify_id, **_customer_fields(record)),
                )
            elif customer.deleted_at is not None:
                # A customers/update delivered after customers/delete (a retry, a backlog), or an
                # order carrying the shopper: Shopify never reuses a customer id, so nothing newer
                # can come for this one, and its personal data must not be written back.
                logger.info("customer %s: deleted in Shopify; update ignored", customer.shopify_id)
                continue
            elif not _is_not_newer(record.updated_at, customer.shopify_updated_at):
                for name, value in _customer_fields(record).items():
                    setattr(customer, name, value)
                applied.take(record.shopify_id)
            # A record older than the row (a late delivery) changes nothing of it, but its consent
            # is logged all the same: the log holds every change, in whatever order they arrive.
            if record.email_consent is not None:
                consents.append((record.shopify_id, record.email_consent))
        return applied

    with transaction.atomic():
        applied = _records_applied(Customer, shop, {record.shopify_id for record in records}, apply)
        _consents_log(shop, consents, source)
    return [applied.rows[record.shopify_id] for record in records]


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


def _consents_log(shop: Shop, consents: Sequence[tuple[int, EmailConsentRecord]], source: str) -> None:
    """Log each (shopper, consent) we do not hold already: the same change reported twice (a
    webhook, then reconciliation; the shopper inside each of their orders) is one entry, as
    consent_record keeps it. Which changes are logged does not depend on the order they arrive in:
    one arriving after a newer one (a retry, a backlog) is logged all the same. One read of the
    shoppers' entries, one insert."""
    if not consents:
        return
    held = set(
        ConsentLogEntry.objects.for_shop(shop)
        .filter(customer_shopify_id__in={customer_id for customer_id, _ in consents})
        .values_list("customer_shopify_id", "state", "opt_in_level", "consent_updated_at")
    )
    new_entries = []
    for customer_id, consent in consents:
        entry = (customer_id, consent.state, consent.opt_in_level, consent.consent_updated_at)
        if entry in held:
            continue
        held.add(entry)
        new_entries.append(
            ConsentLogEntry(
                shop=shop,
                customer_shopify_id=customer_id,
                state=consent.state,
                opt_in_level=consent.opt_in_level,
                consent_updated_at=consent.consent_updated_at,
                source=source or "unknown",
            )
        )
    # A concurrent delivery of the same change may insert it first: it is then recorded once.
    ConsentLogEntry.objects.bulk_create(new_entries, ignore_conflicts=True)


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


def _order_lines_replace(shop: Shop, orders: Sequence[tuple[Order, OrderRecord]], held: set[int]) -> None:
    """Make each order's lines those of its record: the lines of the `held` orders (by Shopify
    id; new orders have none) deleted in one query, every record's lines inserted in one."""
    replaced = [order.pk for order, _ in orders if order.shopify_id in held]
    if replaced:
        OrderLine.objects.for_shop(shop).filter(order_id__in=replaced).delete()
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
        for order, record in orders
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
    return orders_upsert(shop, [(record, triggered_at)], source=source)[0]


OrderState = tuple[OrderRecord, datetime | None]


def orders_upsert(shop: Shop, states: Sequence[OrderState], *, source: str = "") -> list[Order]:
    """order_upsert for each (record, triggered_at) in turn, in a few queries however many there
    are; returns each record's row."""
    if not states:
        return []
    suppressed = shoppers_suppressed(shop, ((record.customer_id, record.email) for record, _ in states))
    states = [
        (record.without_personal_data() if (record.customer_id, record.email) in suppressed else record, when)
        for record, when in states
    ]
    with transaction.atomic():
        customers = _order_customers(shop, [record for record, _ in states], source)
        # The record each order's lines are to come from: the last one applied to it.
        lines: dict[int, OrderRecord] = {}

        def apply(held: dict[int, Order]) -> _Applied[Order]:
            applied = _Applied(held)
            lines.clear()
            for (record, triggered_at), customer in zip(states, customers, strict=True):
                order = applied.rows.get(record.shopify_id)
                if order is None:
                    applied.take(
                        record.shopify_id,
                        Order(
                            shop=shop,
                            shopify_id=record.shopify_id,
                            state_triggered_at=triggered_at,
                            **_order_fields(record, customer),
                        ),
                    )
                elif _state_is_not_newer(
                    record.updated_at, triggered_at, order.shopify_updated_at, order.state_triggered_at
                ):
                    logger.info(
                        "order %s: held state is as new as %s; unchanged", order.shopify_id, record.updated_at
                    )
                    continue
                else:
                    for name, value in _order_fields(record, customer).items():
                        setattr(order, name, value)
                    order.state_triggered_at = triggered_at
                    applied.take(record.shopify_id)
                lines[record.shopify_id] = record
            return applied

        applied = _records_applied(Order, shop, {record.shopify_id for record, _ in states}, apply)
        _order_lines_replace(
            shop, [(applied.rows[order_id], record) for order_id, record in lines.items()], applied.changed
        )
        if applied.created:
            # Refunds that arrived before their order.
            Refund.objects.for_shop(shop).filter(order_shopify_id__in=applied.created, order=None).update(
                order=Subquery(
                    Order.objects.for_shop(shop)
                    .filter(shopify_id=OuterRef("order_shopify_id"))
                    .values("pk")[:1]
                )
            )
    return [applied.rows[record.shopify_id] for record, _ in states]


def _order_customers(shop: Shop, records: Sequence[OrderRecord], source: str) -> list[Customer | None]:
    """Each order's shopper, as applying the orders in turn would find it: the customer its record
    carries, upserted; or, when it names only the id, the customer we hold by then (before the
    set, or brought by an earlier order of it)."""
    named = {record.customer_id for record in records if record.customer is None and record.customer_id}
    held_before = {
        customer.shopify_id: customer
        for customer in Customer.objects.for_shop(shop).filter(shopify_id__in=named)
    }
    carried = [record.customer for record in records if record.customer is not None]
    upserted = dict(
        zip(
            (customer.shopify_id for customer in carried),
            customers_upsert(shop, carried, source=source),
            strict=True,
        )
    )
    customers: list[Customer | None] = []
    brought: set[int] = set()
    for record in records:
        if record.customer is not None:
            brought.add(record.customer.shopify_id)
            customers.append(upserted[record.customer.shopify_id])
        elif record.customer_id is not None:
            found = held_before.get(record.customer_id)
            if found is None and record.customer_id in brought:
                found = upserted[record.customer_id]
            customers.append(found)
        else:
            customers.append(None)
    return customers


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
    if variants.filter(not_newer_held).update(available=stock["total"], available_updated_at=newest):
        catalog_changed(shop.pk)


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
        catalog_changed(shop.pk)
        return product


def product_delete(shop: Shop, shopify_id: int) -> Product:
    """products/delete: the row stays, marked deleted, so that no late delivery brings the product
    back; its variants and memberships go. A product we never held gets such a row too: its
    products/create may still be on its way."""
    with transaction.atomic():
        product, _ = _row_marked_deleted(Product, shop, shopify_id)
        Variant.objects.for_shop(shop).filter(product=product).delete()
        CollectionMembership.objects.for_shop(shop).filter(product_shopify_id=shopify_id).delete()
        catalog_changed(shop.pk)
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
