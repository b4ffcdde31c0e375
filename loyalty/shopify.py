"""What loyalty sends to Shopify's Admin API: a single-use code for one customer, store credit, and
a code's usage (to know whether an expired code was used).

Codes are created with `context.customers` (which replaced `customerSelection` in 2025-10),
`usageLimit: 1` and `appliesOncePerCustomer`, so Shopify's checkout takes the code once, from that
customer only. The code itself is derived from the redemption (redemption_code), so after a
timeout we can ask Shopify whether it exists before deciding it failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from loyalty.models import Redemption, Reward
from shop_app.admin_api import AdminApiError, AdminClient
from shop_app.models import Shop

BASIC_CODE_CREATE = """
mutation LoyaltyBasicCodeCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}"""

FREE_SHIPPING_CODE_CREATE = """
mutation LoyaltyFreeShippingCodeCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}"""

CODE_BY_CODE = """
query LoyaltyCodeByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      ... on DiscountCodeBasic { asyncUsageCount }
      ... on DiscountCodeFreeShipping { asyncUsageCount }
    }
  }
}"""

STORE_CREDIT = """
mutation LoyaltyStoreCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } }
    userErrors { field message code }
  }
}"""

STORE_CREDIT_SCOPE = "write_store_credit_account_transactions"

# What may have reached Shopify even though we got no answer: then ask before deciding. The
# shopifyapp package answers a timeout or a dropped connection as a failed result (network_error),
# which AdminClient raises as AdminApiError, as it does a 5xx once its retries are spent: a code made
# just before Shopify's answer was lost would otherwise be the shopper's with their points back.
UNCERTAIN_ERRORS = (httpx.TimeoutException, httpx.NetworkError, AdminApiError)


class ShopifyRefused(Exception):
    """Shopify answered and refused (userErrors): nothing was created."""


@dataclass(frozen=True)
class Issued:
    code: str
    discount_gid: str


def redemption_code(shop: Shop, redemption: Redemption) -> str:
    """The redemption's code: the same on every attempt for one redemption (so a retry after a
    timeout finds the code it may have created), unguessable from the outside."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"{shop.domain}:{redemption.pk}:{redemption.attempts}".encode(),
        hashlib.sha256,
    ).digest()
    return "PTS-" + base64.b32encode(digest).decode()[:10]


def _code_input(
    shop: Shop, reward: Reward, code: str, customer_id: int, ends_at: datetime | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": f"{reward.name} (points)",
        "code": code,
        "context": {"customers": {"add": [f"gid://shopify/Customer/{customer_id}"]}},
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "endsAt": ends_at.isoformat() if ends_at else None,
    }
    if reward.minimum_order:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(reward.minimum_order)}}
    if reward.kind == Reward.Kind.PERCENTAGE:
        data["customerGets"] = {"value": {"percentage": float(reward.value / 100)}, "items": {"all": True}}
    elif reward.kind == Reward.Kind.FIXED_AMOUNT:
        data["customerGets"] = {
            "value": {"discountAmount": {"amount": str(reward.value), "appliesOnEachItem": False}},
            "items": {"all": True},
        }
    return data


def code_create(
    client: AdminClient, reward: Reward, code: str, customer_id: int, ends_at: datetime | None
) -> Issued:
    """Create the single-use code; ShopifyRefused on userErrors."""
    data = _code_input(client.shop, reward, code, customer_id, ends_at)
    if reward.kind == Reward.Kind.FREE_SHIPPING:
        answer = client.graphql(FREE_SHIPPING_CODE_CREATE, {"freeShippingCodeDiscount": data})
        payload = answer["discountCodeFreeShippingCreate"]
    else:
        answer = client.graphql(BASIC_CODE_CREATE, {"basicCodeDiscount": data})
        payload = answer["discountCodeBasicCreate"]
    if payload["userErrors"] or not payload.get("codeDiscountNode"):
        raise ShopifyRefused("; ".join(error["message"] for error in payload["userErrors"])[:500])
    return Issued(code=code, discount_gid=payload["codeDiscountNode"]["id"])


def code_lookup(client: AdminClient, code: str) -> tuple[str, int] | None:
    """(the discount's gid, how many times it was used), or None if Shopify has no such code."""
    node = client.graphql(CODE_BY_CODE, {"code": code}).get("codeDiscountNodeByCode")
    if not node:
        return None
    return str(node["id"]), int((node.get("codeDiscount") or {}).get("asyncUsageCount") or 0)


def store_credit_give(
    client: AdminClient, customer_id: int, amount: Decimal, currency: str, expires_at: datetime | None
) -> str:
    """Credit the customer's store credit account (created by Shopify if they have none); the
    transaction's gid. ShopifyRefused on userErrors."""
    credit: dict[str, Any] = {"creditAmount": {"amount": str(amount), "currencyCode": currency}}
    if expires_at is not None:
        credit["expiresAt"] = expires_at.isoformat()
    answer = client.graphql(
        STORE_CREDIT, {"id": f"gid://shopify/Customer/{customer_id}", "creditInput": credit}
    )
    payload = answer["storeCreditAccountCredit"]
    if payload["userErrors"] or not payload.get("storeCreditAccountTransaction"):
        raise ShopifyRefused("; ".join(error["message"] for error in payload["userErrors"])[:500])
    return str(payload["storeCreditAccountTransaction"]["id"])
