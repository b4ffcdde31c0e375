"""Reconciliation: ask the Admin API for customers, orders, products and collections updated since
the last pass and apply them, repairing whatever a lost webhook left behind. Safe to run any time
and twice: only what is newer than what we hold is read in full and applied, and the cursor moves
only past what was read."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from commerce import ingest
from commerce.graphql_fields import (
    COLLECTION_FIELDS,
    CUSTOMER_FIELDS,
    LINE_ITEM_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
)
from commerce.models import Collection, Customer, Order, Product, SyncCursor
from commerce.records import IngestError, require, required_time, shopify_id
from shop_app.admin_api import admin_client_for_shop
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop
from shop_app.tokens import ShopNotAuthorized

logger = logging.getLogger(__name__)

SOURCE = "admin_api:reconcile"
PAGE_SIZE = 100
LINE_ITEMS_PAGE_SIZE = 50
VARIANTS_PAGE_SIZE = 100
MEMBERS_PAGE_SIZE = 250
# How many times a node that changes between two pages of its children is read again.
NODE_READ_ATTEMPTS = 3

# Shopify refuses a query whose requested cost is over 1,000 points, and works that cost out from
# the page sizes asked for, nested ones multiplied (scalars 0, objects 1, a connection 2 plus
# `first` times one node). So orders are listed cheaply (id and time only) and each changed order
# is read on its own, its line items paged. Requested costs: a page of customers 2 + 100 x 3 = 302;
# a page of changed orders 2 + 100 x 1 = 102; one order with a page of 50 lines 11 + 2 + 50 x 5 = 263.
# Products and collections the same way: a page of changed ones 102 each; one product with a page
# of 100 variants (each 1, its inventoryItem 1, its selectedOptions 1) 4 + 3 + 100 x 3 = 307; one
# collection with a page of 250 product ids 1 + 3 + 250 x 1 = 254.

CUSTOMERS_QUERY = f"""
query CustomersUpdatedSince($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {CUSTOMER_FIELDS} }}
  }}
}}"""


def _changed_since_query(connection: str, operation: str) -> str:
    """List a connection's nodes by id and time only, oldest change first (each changed node is
    then read on its own, see node_read)."""
    return f"""
query {operation}($first: Int!, $after: String, $query: String) {{
  {connection}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id updatedAt }}
  }}
}}"""


ORDERS_CHANGED_QUERY = _changed_since_query("orders", "OrdersUpdatedSince")

ORDER_QUERY = f"""
query OrderWithLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    {ORDER_FIELDS}
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM_FIELDS} }}
    }}
  }}
}}"""

PRODUCTS_CHANGED_QUERY = _changed_since_query("products", "ProductsUpdatedSince")

PRODUCT_QUERY = f"""
query ProductWithVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    {PRODUCT_FIELDS}
    variants(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {VARIANT_FIELDS} }}
    }}
  }}
}}"""

COLLECTIONS_CHANGED_QUERY = _changed_since_query("collections", "CollectionsUpdatedSince")

COLLECTION_QUERY = f"""
query CollectionWithProducts($id: ID!, $first: Int!, $after: String) {{
  collection(id: $id) {{
    {COLLECTION_FIELDS}
    products(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id }}
    }}
  }}
}}"""


@dataclass(frozen=True)
class NodeRead:
    """How to read one node with all of one of its connections: the query (variables `id`,
    `first`, `after`), its root field, the connection paged, and the page size."""

    root: str
    query: str
    connection: str
    page_size: int


ORDER_READ = NodeRead("order", ORDER_QUERY, "lineItems", LINE_ITEMS_PAGE_SIZE)
PRODUCT_READ = NodeRead("product", PRODUCT_QUERY, "variants", VARIANTS_PAGE_SIZE)
COLLECTION_READ = NodeRead("collection", COLLECTION_QUERY, "products", MEMBERS_PAGE_SIZE)


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
    products: ResourceReport = field(default_factory=ResourceReport)
    collections: ResourceReport = field(default_factory=ResourceReport)


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


def _held_updated_at(
    model: type[Model], shop: Shop, ids: list[int], held_field: str = "shopify_updated_at"
) -> dict[int, datetime]:
    return {
        shopify_id: updated_at
        for shopify_id, updated_at in model._default_manager.filter(
            shop=shop, shopify_id__in=ids
        ).values_list("shopify_id", held_field)
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


def node_read(client: GraphQLClient, read: NodeRead, node_gid: str) -> dict[str, Any] | None:
    """One node with all of its `read.connection`, read page by page. None if it is gone (deleted
    since it was listed). A node that changes between two pages is read again from the start, so
    its children are all of one state; Shopify's `updatedAt` says which."""
    for _ in range(NODE_READ_ATTEMPTS):
        first: dict[str, Any] | None = None
        children: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = client.graphql(read.query, {"id": node_gid, "first": read.page_size, "after": after})
            node = data.get(read.root)
            if not isinstance(node, dict):
                return None
            if first is None:
                first = node
            elif node.get("updatedAt") != first.get("updatedAt"):
                break
            connection = node.get(read.connection) or {}
            children.extend(connection.get("nodes") or [])
            page = connection.get("pageInfo") or {}
            after = page.get("endCursor")
            if not page.get("hasNextPage"):
                return {**first, read.connection: {"nodes": children}}
            if not after:
                raise IngestError(f"{read.root} {node_gid}: {read.connection} has a next page but no cursor")
    raise IngestError(
        f"{read.root} {node_gid}: changed while its {read.connection} were read, {NODE_READ_ATTEMPTS} times"
    )


def order_read(client: GraphQLClient, order_gid: str) -> dict[str, Any] | None:
    """One order with all its line items (node_read)."""
    return node_read(client, ORDER_READ, order_gid)


def _changed_apply(
    shop: Shop,
    client: GraphQLClient,
    *,
    resource: str,
    model: type[Model],
    read: NodeRead,
    apply: Callable[[dict[str, Any]], object],
    held_field: str = "shopify_updated_at",
) -> PageApply:
    """For a page listing changed nodes by id and updatedAt: read in full, and apply, each one
    newer than what we hold (`held_field`, the time of the state we hold)."""

    def apply_page(nodes: list[dict[str, Any]], report: ResourceReport) -> datetime | None:
        listed: list[tuple[int, str, datetime]] = []
        for node in nodes:
            try:
                node_gid = require(node, "id", read.root)
                listed.append(
                    (
                        shopify_id(node_gid, f"{read.root}.id"),
                        str(node_gid),
                        required_time(node.get("updatedAt"), f"{read.root}.updatedAt"),
                    )
                )
            except IngestError as error:
                report.reject(shop, resource, node.get("id") if isinstance(node, dict) else None, error)
        held = _held_updated_at(model, shop, [node_id for node_id, _, _ in listed], held_field)
        newest: datetime | None = None
        for node_id, node_gid, updated_at in listed:
            newest = updated_at if newest is None or updated_at > newest else newest
            if node_id in held and updated_at <= held[node_id]:
                report.unchanged += 1
                continue
            try:
                full = node_read(client, read, node_gid)
                if full is None:
                    continue
                apply(full)
            except IngestError as error:
                report.reject(shop, resource, node_gid, error)
                continue
            report.applied += 1
        return newest

    return apply_page


RECONCILE_JOB = "commerce.reconcile"
COLLECTION_REFRESH_JOB = "commerce.collection_refresh"


def reconcile_run(job: Job) -> None:
    """The reconciliation job of one shop. An Admin API failure is retried with backoff; the cursor
    makes a retried pass resume where the last one stopped."""
    try:
        reconcile_shop(job.shop, admin_client_for_shop(job.shop))
    except ShopNotAuthorized:
        # The merchant must open the app again; the cursor waits for them.
        logger.info("reconcile %s: skipped, the shop needs reauthorization", job.shop.domain)


def reconcile_all_shops_enqueue() -> int:
    """Beat: one reconciliation job per installed shop (one at a time per shop)."""
    shops = Shop.objects.filter(pk__in=shops_to_reconcile())
    for shop in shops:
        job_enqueue(shop, RECONCILE_JOB)
    return len(shops)


def collection_refresh_enqueue(shop: Shop, collection_id: int) -> None:
    """Read the collection's members once the current transaction commits (collections/*
    webhooks carry none). A read already waiting reads the state as it is then; one already
    running may miss this change, which reconciliation repairs (the members are older than the
    collection's fields)."""
    job_enqueue(
        shop, COLLECTION_REFRESH_JOB, key=str(collection_id), arguments={"collection_id": collection_id}
    )


def collection_refresh_run(job: Job) -> None:
    try:
        collection_refresh(job.shop, admin_client_for_shop(job.shop), int(job.arguments["collection_id"]))
    except ShopNotAuthorized:
        logger.info("collection refresh for %s: the shop needs reauthorization", job.shop.domain)


def collection_refresh(shop: Shop, client: GraphQLClient, collection_id: int) -> Collection | None:
    """Read one collection with its members from the Admin API and apply it: collections/* webhooks
    carry no members. None if Shopify no longer has it (its collections/delete is on its way)."""
    node = node_read(client, COLLECTION_READ, f"gid://shopify/Collection/{collection_id}")
    if node is None:
        return None
    return ingest.collection_upsert(shop, ingest.collection_record_from_graphql(node))


def reconcile_shop(shop: Shop, client: GraphQLClient, now: datetime | None = None) -> ReconcileReport:
    """Customers first, so that the orders read next link to them; products before collections,
    so that the members read last link to them."""
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
        apply_page=_changed_apply(
            shop,
            client,
            resource="orders",
            model=Order,
            read=ORDER_READ,
            apply=lambda node: ingest.order_upsert(
                shop, ingest.order_record_from_graphql(node), source=SOURCE
            ),
        ),
        now=now,
    )
    report.products = _reconcile_resource(
        shop,
        client,
        resource="products",
        query=PRODUCTS_CHANGED_QUERY,
        apply_page=_changed_apply(
            shop,
            client,
            resource="products",
            model=Product,
            read=PRODUCT_READ,
            apply=lambda node: ingest.product_upsert(
                shop, ingest.product_record_from_graphql(node, shop.currency)
            ),
        ),
        now=now,
    )
    report.collections = _reconcile_resource(
        shop,
        client,
        resource="collections",
        query=COLLECTIONS_CHANGED_QUERY,
        apply_page=_changed_apply(
            shop,
            client,
            resource="collections",
            model=Collection,
            read=COLLECTION_READ,
            apply=lambda node: ingest.collection_upsert(shop, ingest.collection_record_from_graphql(node)),
            # The members, not the fields: a collections/update webhook brings the fields and
            # leaves the members to a read that may have failed.
            held_field="members_updated_at",
        ),
        now=now,
    )
    logger.info(
        "reconciled %s: %s customers, %s orders, %s products, %s collections applied",
        shop.domain,
        report.customers.applied,
        report.orders.applied,
        report.products.applied,
        report.collections.applied,
    )
    return report


def shops_to_reconcile() -> list[int]:
    return list(
        Shop.objects.installed().filter(reauthorization_required_at__isnull=True).values_list("pk", flat=True)
    )
