"""Loyalty's test helpers: orders as commerce mirrors them, and a Shopify that answers the Admin
API calls redemption makes (or fails them, on demand)."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from commerce.models import Order, Refund, RefundLine
from loyalty import mirror
from shop_app.models import Shop

_ids = itertools.count(5_000)


@pytest.fixture(autouse=True)
def no_metafield_writes(monkeypatch: pytest.MonkeyPatch) -> list[Shop]:
    """The theme mirror's job would call Shopify: these tests record that it was queued."""
    queued: list[Shop] = []
    monkeypatch.setattr(mirror, "job_enqueue", lambda shop, kind, **kwargs: queued.append(shop))
    return queued


def paid_order(
    shop: Shop,
    customer_id: int,
    subtotal: str = "100.00",
    *,
    at: datetime | None = None,
    status: str = "paid",
    shopify_id: int | None = None,
) -> Order:
    at = at or timezone.now()
    return Order.objects.create(
        shop=shop,
        shopify_id=shopify_id or next(_ids),
        name=f"#{next(_ids)}",
        customer_shopify_id=customer_id,
        currency="USD",
        total_price=Decimal(subtotal) + Decimal("10"),
        subtotal_price=Decimal(subtotal),
        total_discounts=Decimal("0"),
        total_tax=Decimal("0"),
        financial_status=status,
        shopify_created_at=at,
        shopify_updated_at=at,
        processed_at=at,
    )


def refund_of(shop: Shop, order: Order, amount: str, at: datetime | None = None) -> Refund:
    at = at or timezone.now() + timedelta(seconds=next(_ids) % 1000)
    refund = Refund.objects.create(
        shop=shop,
        shopify_id=next(_ids),
        order_shopify_id=order.shopify_id,
        order=order,
        amount=Decimal(amount),
        currency="USD",
        shopify_created_at=at,
    )
    RefundLine.objects.create(
        shop=shop,
        refund=refund,
        shopify_id=next(_ids),
        line_item_shopify_id=1,
        quantity=1,
        subtotal=Decimal(amount),
        currency="USD",
    )
    return refund


class FakeShopify:
    """The Admin API as far as redemption uses it: codes by name, store credit; `fail` makes the
    next calls raise (or answer userErrors), like Shopify refusing or going away."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.codes: dict[str, dict[str, Any]] = {}
        self.credits: list[dict[str, Any]] = []
        self.fail: Exception | str | None = None
        self.lock = threading.Lock()
        self.calls = 0

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        with self.lock:
            self.calls += 1
            if "codeDiscountNodeByCode" in query:
                found = self.codes.get(variables["code"])
                return {
                    "codeDiscountNodeByCode": None
                    if found is None
                    else {"id": found["id"], "codeDiscount": {"asyncUsageCount": found["used"]}}
                }
            if isinstance(self.fail, Exception):
                raise self.fail
            root = next(
                name
                for name in (
                    "discountCodeBasicCreate",
                    "discountCodeFreeShippingCreate",
                    "storeCreditAccountCredit",
                )
                if name in query
            )
            if self.fail:
                return {
                    root: {
                        "userErrors": [{"field": ["code"], "message": self.fail, "code": "INVALID"}],
                        "codeDiscountNode": None,
                        "storeCreditAccountTransaction": None,
                    }
                }
            if root == "storeCreditAccountCredit":
                self.credits.append(variables)
                return {
                    root: {
                        "storeCreditAccountTransaction": {
                            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{len(self.credits)}"
                        },
                        "userErrors": [],
                    }
                }
            data = variables.get("basicCodeDiscount") or variables["freeShippingCodeDiscount"]
            if data["code"] in self.codes:
                return {
                    root: {
                        "codeDiscountNode": None,
                        "userErrors": [{"field": ["code"], "message": "taken", "code": "TAKEN"}],
                    }
                }
            self.codes[data["code"]] = {
                "id": f"gid://shopify/DiscountCodeNode/{len(self.codes) + 1}",
                "used": 0,
                "input": data,
            }
            return {root: {"codeDiscountNode": {"id": self.codes[data["code"]]["id"]}, "userErrors": []}}


@pytest.fixture
def shopify(shop: Shop) -> FakeShopify:
    return FakeShopify(shop)
