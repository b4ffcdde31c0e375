"""Reconciliation: ask the Admin API for orders and customers updated since the last pass and
apply them, repairing whatever a lost webhook left behind. Safe to run any time and twice: only
what is newer than what we hold is read in full and applied, and the cursor moves only past what
was read."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from commerce import ingest
from commerce.graphql_fields import CUSTOMER_FIELDS, LINE_ITEM_FIELDS, ORDER_FIELDS
from commerce.models import Customer, Order, SyncCursor
from commerce.records import IngestError, require, required_time, shopify_id
from shop_app.models import Shop

logger = logging.getLogger(__name__)

SOURCE = "admin_api:reconcile"
PAGE_SIZE = 100
LINE_ITEMS_PAGE_SIZE = 50
# How many times an order that changes between two pages of its line items is read again.
ORDER_READ_ATTEMPTS = 3

# Shopify refuses a query whose requested cost is over 1,000 points, and works that cost out from
# the page sizes asked for, nested ones multiplied (scalars 0, objects 1, a connection 2 plus
# `first` times one node). So orders are listed cheaply (id and time only) and each changed order
# is read on its own, its line items paged. Requested costs: a page of customers 2 + 100 x 3 = 302;
# a page of changed orders 2 + 100 x 1 = 102; one order with a page of 50 lines 11 + 2 + 50 x 5 = 263.

CUSTOMERS_QUERY = f"""
query CustomersUpdatedSince($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {CUSTOMER_FIELDS} }}
  }}
}}"""

ORDERS_CHANGED_QUERY = """
query OrdersUpdatedSince($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}"""

ORDER_QUERY = f"""
query OrderWithLineItems($id: ID!, $linesFirst: Int!, $linesAfter: String) {{
  order(id: $id) {{
    {ORDER_FIELDS}
    lineItems(first: $linesFirst, after: $linesAfter) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM_FIELDS} }}
    }}
  }}
}}"""


class GraphQLClient(Protocol):
    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass
class ResourceReport:
    applied: int = 0
    # Read, and no newer than what we hold: nothing to do.
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, shop: Shop, resource: str, node_id: object, error: IngestError) -> None:
        # One malformed node must not stop the pass; it is reported and logged.
        self.rejected += 1
        self.errors.append(f"{node_id}: {error}")
        logger.warning("reconcile %s %s: %s", shop.domain, resource, error)


@dataclass
class ReconcileReport:
    customers: ResourceReport = field(default_factory=ResourceReport)
    orders: ResourceReport = field(default_factory=ResourceReport)


# Applies one page of nodes and returns the newest `updatedAt` it read (None if none).
PageApply = Callable[[list[dict[str, Any]], ResourceReport], datetime | None]


def _search_since(since: datetime) -> str:
    # Inclusive: Shopify's search compares at second precision; re-reading the boundary is
    # harmless because what we hold already is skipped.
    return f"updated_at:>='{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _cursor_save(shop: Shop, resource: str, synced_through: datetime) -> None:
    SyncCursor.objects.update_or_create(
        shop=shop, resource=resource, defaults={"synced_through": synced_through}
    )


def _reconcile_resource(
    shop: Shop,
    client: GraphQLClient,
    *,
    resource: str,
    query: str,
    apply_page: PageApply,
    now: datetime,
) -> ResourceReport:
    """Page through what changed since the cursor, oldest change first, saving the cursor after
    every page: Shopify sorts by UPDATED_AT, so everything up to a page's newest time is read, and
    a pass cut short (its time limit, an API failure) resumes from its last page, not from scratch.
    The cursor follows Shopify's clock (the newest updatedAt read), never ours."""
    report = ResourceReport()
    cursor = SyncCursor.objects.for_shop(shop).filter(resource=resource).first()
    since = cursor.synced_through if cursor else now - timedelta(hours=settings.RECONCILE_FIRST_WINDOW_HOURS)
    newest = since
    after: str | None = None
    while True:
        data = client.graphql(query, {"first": PAGE_SIZE, "after": after, "query": _search_since(since)})
        connection = data.get(resource) or {}
        page_newest = apply_page(list(connection.get("nodes") or []), report)
        if page_newest is not None and page_newest > newest:
            newest = page_newest
            _cursor_save(shop, resource, newest)
        page = connection.get("pageInfo") or {}
        after = page.get("endCursor")
        if not page.get("hasNextPage") or not after:
            break
    if cursor is None and newest == since:
        _cursor_save(shop, resource, newest)  # nothing changed in the first window: start there
    return report


def _held_updated_at(model: type[Customer] | type[Order], shop: Shop, ids: list[int]) -> dict[int, datetime]:
    return {
        shopify_id: updated_at
        for shopify_id, updated_at in model.objects.for_shop(shop)
        .filter(shopify_id__in=ids)
        .values_list("shopify_id", "shopify_updated_at")
        if updated_at is not None
    }


def _customers_apply(shop: Shop) -> PageApply:
    def apply_page(nodes: list[dict[str, Any]], report: ResourceReport) -> datetime | None:
        records = []
        for node in nodes:
            try:
                records.append(ingest.customer_record_from_graphql(node))
            except IngestError as error:
                report.reject(shop, "customers", node.get("id") if isinstance(node, dict) else None, error)
        held = _held_updated_at(Customer, shop, [record.shopify_id for record in records])
        newest: datetime | None = None
        for record in records:
            if record.updated_at is not None and (newest is None or record.updated_at > newest):
                newest = record.updated_at
            if record.shopify_id in held and (
                record.updated_at is None or record.updated_at <= held[record.shopify_id]
            ):
                report.unchanged += 1
                continue
            ingest.customer_upsert(shop, record, source=SOURCE)
            report.applied += 1
        return newest

    return apply_page


def order_read(client: GraphQLClient, order_gid: str) -> dict[str, Any] | None:
    """One order with all its line items, read page by page. None if it is gone (deleted since it
    was listed). An order that changes between two pages is read again from the start, so its
    lines are all of one state; Shopify's `updatedAt` says which."""
    for _ in range(ORDER_READ_ATTEMPTS):
        first: dict[str, Any] | None = None
        lines: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = client.graphql(
                ORDER_QUERY, {"id": order_gid, "linesFirst": LINE_ITEMS_PAGE_SIZE, "linesAfter": after}
            )
            node = data.get("order")
            if not isinstance(node, dict):
                return None
            if first is None:
                first = node
            elif node.get("updatedAt") != first.get("updatedAt"):
                break
            connection = node.get("lineItems") or {}
            lines.extend(connection.get("nodes") or [])
            page = connection.get("pageInfo") or {}
            after = page.get("endCursor")
            if not page.get("hasNextPage"):
                return {**first, "lineItems": {"nodes": lines}}
            if not after:
                raise IngestError(f"order {order_gid}: lineItems has a next page but no cursor")
    raise IngestError(
        f"order {order_gid}: changed while its line items were read, {ORDER_READ_ATTEMPTS} times"
    )


def _orders_apply(shop: Shop, client: GraphQLClient) -> PageApply:
    def apply_page(nodes: list[dict[str, Any]], report: ResourceReport) -> datetime | None:
        listed: list[tuple[int, str, datetime]] = []
        for node in nodes:
            try:
                order_gid = require(node, "id", "order")
                listed.append(
                    (
                        shopify_id(order_gid, "order.id"),
                        str(order_gid),
                        required_time(node.get("updatedAt"), "order.updatedAt"),
                    )
                )
            except IngestError as error:
                report.reject(shop, "orders", node.get("id") if isinstance(node, dict) else None, error)
        held = _held_updated_at(Order, shop, [order_id for order_id, _, _ in listed])
        newest: datetime | None = None
        for order_id, order_gid, updated_at in listed:
            newest = updated_at if newest is None or updated_at > newest else newest
            if order_id in held and updated_at <= held[order_id]:
                report.unchanged += 1
                continue
            try:
                full = order_read(client, order_gid)
                if full is None:
                    continue
                ingest.order_upsert(shop, ingest.order_record_from_graphql(full), source=SOURCE)
            except IngestError as error:
                report.reject(shop, "orders", order_gid, error)
                continue
            report.applied += 1
        return newest

    return apply_page


def reconcile_shop(shop: Shop, client: GraphQLClient, now: datetime | None = None) -> ReconcileReport:
    """Customers first, so that the orders read next link to them."""
    now = now or timezone.now()
    report = ReconcileReport()
    report.customers = _reconcile_resource(
        shop, client, resource="customers", query=CUSTOMERS_QUERY, apply_page=_customers_apply(shop), now=now
    )
    report.orders = _reconcile_resource(
        shop,
        client,
        resource="orders",
        query=ORDERS_CHANGED_QUERY,
        apply_page=_orders_apply(shop, client),
        now=now,
    )
    logger.info(
        "reconciled %s: %s customers, %s orders applied",
        shop.domain,
        report.customers.applied,
        report.orders.applied,
    )
    return report


def shops_to_reconcile() -> list[int]:
    return list(
        Shop.objects.installed().filter(reauthorization_required_at__isnull=True).values_list("pk", flat=True)
    )
