"""Reconciliation: ask the Admin API for orders and customers updated since the last pass and
apply them, repairing whatever a lost webhook left behind. Safe to run any time and twice: ingest
applies only newer state, and the cursor moves only past what was read."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from personalize import ingest
from personalize.models import SyncCursor
from personalize.records import IngestError
from shop_app.models import Shop

logger = logging.getLogger(__name__)

SOURCE = "admin_api:reconcile"
PAGE_SIZE = 100
MONEY = "shopMoney { amount currencyCode }"

CUSTOMERS_QUERY = """
query CustomersUpdatedSince($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id email firstName lastName phone tags createdAt updatedAt
      defaultAddress { city province provinceCode countryCodeV2 zip }
      emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
    }
  }
}"""

ORDERS_QUERY = f"""
query OrdersUpdatedSince($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id name createdAt updatedAt processedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus currencyCode
      totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }}
      totalDiscountsSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
      customer {{ id }}
      shippingAddress {{ city province countryCodeV2 zip }}
      lineItems(first: 100) {{ nodes {{
        id quantity sku title variant {{ id }} product {{ id }} originalUnitPriceSet {{ {MONEY} }}
      }} }}
    }}
  }}
}}"""


class GraphQLClient(Protocol):
    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass
class ResourceReport:
    applied: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ReconcileReport:
    customers: ResourceReport = field(default_factory=ResourceReport)
    orders: ResourceReport = field(default_factory=ResourceReport)


def _search_since(since: datetime) -> str:
    # Inclusive: Shopify's search compares at second precision; re-reading the boundary is
    # harmless because ingest is idempotent.
    return f"updated_at:>='{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _reconcile_resource(
    shop: Shop,
    client: GraphQLClient,
    *,
    resource: str,
    query: str,
    apply: Callable[[dict[str, Any]], datetime | None],
    now: datetime,
) -> ResourceReport:
    report = ResourceReport()
    cursor = SyncCursor.objects.for_shop(shop).filter(resource=resource).first()
    since = cursor.synced_through if cursor else now - timedelta(hours=settings.RECONCILE_FIRST_WINDOW_HOURS)
    newest = since
    after: str | None = None
    while True:
        data = client.graphql(query, {"first": PAGE_SIZE, "after": after, "query": _search_since(since)})
        connection = data[resource]
        for node in connection.get("nodes") or []:
            try:
                updated_at = apply(node)
            except IngestError as error:
                # One malformed node must not stop the pass; it is reported and logged.
                report.rejected += 1
                report.errors.append(f"{node.get('id')}: {error}")
                logger.warning("reconcile %s %s: %s", shop.domain, resource, error)
                continue
            report.applied += 1
            if updated_at and updated_at > newest:
                newest = updated_at
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    # The cursor follows Shopify's clock (the newest updatedAt read), never ours.
    SyncCursor.objects.update_or_create(shop=shop, resource=resource, defaults={"synced_through": newest})
    return report


def reconcile_shop(shop: Shop, client: GraphQLClient, now: datetime | None = None) -> ReconcileReport:
    """Customers first, so that the orders read next link to them."""
    now = now or timezone.now()

    def apply_customer(node: dict[str, Any]) -> datetime | None:
        record = ingest.customer_record_from_graphql(node)
        ingest.customer_upsert(shop, record, source=SOURCE)
        return record.updated_at

    def apply_order(node: dict[str, Any]) -> datetime | None:
        record = ingest.order_record_from_graphql(node)
        ingest.order_upsert(shop, record, source=SOURCE)
        return record.updated_at

    report = ReconcileReport()
    report.customers = _reconcile_resource(
        shop, client, resource="customers", query=CUSTOMERS_QUERY, apply=apply_customer, now=now
    )
    report.orders = _reconcile_resource(
        shop, client, resource="orders", query=ORDERS_QUERY, apply=apply_order, now=now
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
        Shop.objects.filter(
            installed_at__isnull=False, uninstalled_at__isnull=True, reauthorization_required_at__isnull=True
        ).values_list("pk", flat=True)
    )
