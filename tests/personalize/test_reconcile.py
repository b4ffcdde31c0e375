from datetime import UTC, datetime
from typing import Any

from personalize.models import Customer, Order, SyncCursor
from personalize.reconcile import reconcile_shop
from shop_app.models import Shop
from tests.personalize.test_ingest import customer_node, order_node


class FakeAdminClient:
    """Answers the reconciliation queries from pages given up front, and records each call."""

    def __init__(self, pages: dict[str, list[list[dict[str, Any]]]]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        resource = "orders" if "orders(" in query else "customers"
        variables = variables or {}
        self.calls.append((resource, variables))
        index = int(variables["after"] or 0)
        pages = self.pages.get(resource, [[]])
        has_next = index + 1 < len(pages)
        return {
            resource: {
                "nodes": pages[index],
                "pageInfo": {"hasNextPage": has_next, "endCursor": str(index + 1) if has_next else None},
            }
        }


NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


def test_reconciliation_repairs_what_missed_webhooks_left_behind(shop: Shop) -> None:
    # Given Shopify holds a customer and two orders we never heard of (one page each time)
    client = FakeAdminClient(
        {
            "customers": [[customer_node("2026-01-06T08:00:00Z")]],
            "orders": [
                [order_node("2026-01-06T09:00:00Z")],
                [order_node("2026-01-06T10:00:00Z", id="gid://shopify/Order/5002", name="#1002")],
            ],
        }
    )

    # When reconciliation runs
    report = reconcile_shop(shop, client, now=NOW)

    # Then both orders and the customer are stored, read page by page from 24 hours back
    assert (report.customers.applied, report.orders.applied) == (1, 2)
    assert sorted(Order.objects.for_shop(shop).values_list("name", flat=True)) == ["#1001", "#1002"]
    assert Order.objects.for_shop(shop).get(name="#1001").customer == Customer.objects.for_shop(shop).get()
    assert client.calls[0] == (
        "customers",
        {"first": 100, "after": None, "query": "updated_at:>='2026-01-05T12:00:00Z'"},
    )
    assert [call[1]["after"] for call in client.calls if call[0] == "orders"] == [None, "1"]
    # ... and the cursor follows Shopify's newest updatedAt
    cursor = SyncCursor.objects.for_shop(shop).get(resource="orders")
    assert cursor.synced_through == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


def test_the_next_pass_starts_at_the_cursor_and_never_rolls_newer_state_back(shop: Shop) -> None:
    reconcile_shop(shop, FakeAdminClient({"orders": [[order_node("2026-01-06T09:00:00Z")]]}), now=NOW)
    Order.objects.for_shop(shop).update(
        financial_status="refunded", shopify_updated_at=datetime(2026, 1, 6, 11, 0, tzinfo=UTC)
    )
    client = FakeAdminClient({"orders": [[order_node("2026-01-06T09:00:00Z")]]})

    reconcile_shop(shop, client, now=NOW)

    assert client.calls[-1][1]["query"] == "updated_at:>='2026-01-06T09:00:00Z'"
    assert Order.objects.for_shop(shop).get().financial_status == "refunded"


def test_a_malformed_node_is_reported_and_the_rest_applied(shop: Shop) -> None:
    client = FakeAdminClient(
        {"orders": [[order_node(currencyCode=None), order_node(id="gid://shopify/Order/5002", name="#1002")]]}
    )

    report = reconcile_shop(shop, client, now=NOW)

    assert (report.orders.applied, report.orders.rejected) == (1, 1)
    assert "order.currencyCode: missing" in report.orders.errors[0]
    assert list(Order.objects.for_shop(shop).values_list("name", flat=True)) == ["#1002"]


def test_reconciling_one_shop_leaves_the_other_alone(shop: Shop, other_shop: Shop) -> None:
    reconcile_shop(shop, FakeAdminClient({"orders": [[order_node()]]}), now=NOW)

    assert not Order.objects.for_shop(other_shop).exists()
    assert not SyncCursor.objects.for_shop(other_shop).exists()
