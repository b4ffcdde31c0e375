"""The merchant's door to profiles: find a shopper, see the segments, read one shopper's profile
with what they told and what their orders suggest side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat

from commerce.models import Customer, Order
from personalize.facts import fact_history, facts_current
from personalize.models import Fact, Profile, ProfileRun
from personalize.profiles import segment_rules
from shop_app.models import Shop

CUSTOMERS_SEARCH_MAX = 100
CUSTOMER_ORDERS_SHOWN = 20


@dataclass(frozen=True)
class CustomerRow:
    customer_shopify_id: int
    name: str
    email: str
    profile: Profile | None


def customers_search(
    shop: Shop, query: str = "", segment: str | None = None, limit: int = 25
) -> list[CustomerRow]:
    """Shoppers whose name or email contains `query` (any case), of `segment` if given, those who
    ordered last first. Two queries."""
    customers = (
        Customer.objects.for_shop(shop)
        .filter(deleted_at__isnull=True, redacted_at__isnull=True)
        .alias(full_name=Concat(F("first_name"), Value(" "), F("last_name")))
    )
    query = query.strip()
    if query:
        customers = customers.filter(Q(email__icontains=query) | Q(full_name__icontains=query))
    profiles = Profile.objects.for_shop(shop).filter(customer_shopify_id__in=customers.values("shopify_id"))
    if segment is not None:
        profiles = profiles.filter(segment=segment)
    found = list(
        profiles.order_by(F("last_order_at").desc(nulls_last=True), "customer_shopify_id")[
            : min(limit, CUSTOMERS_SEARCH_MAX)
        ]
    )
    people = {
        customer.shopify_id: customer
        for customer in Customer.objects.for_shop(shop).filter(
            shopify_id__in=[profile.customer_shopify_id for profile in found]
        )
    }
    return [
        CustomerRow(
            customer_shopify_id=profile.customer_shopify_id,
            name=_name(people.get(profile.customer_shopify_id)),
            email=getattr(people.get(profile.customer_shopify_id), "email", ""),
            profile=profile,
        )
        for profile in found
    ]


def segments_summary(shop: Shop) -> dict[str, Any]:
    """Each segment's size and rule, and the progress of the latest full recompute."""
    sizes = dict(
        Profile.objects.for_shop(shop)
        .values("segment")
        .annotate(size=Count("pk"))
        .values_list("segment", "size")
    )
    run = ProfileRun.objects.for_shop(shop).order_by("-pk").first()
    return {
        "segments": [
            {
                "segment": segment,
                "name": Profile.Segment(segment).label,
                "rule": rule,
                "size": sizes.get(segment, 0),
            }
            for segment, rule in segment_rules()
        ],
        "without_orders": sizes.get("", 0),
        "run": (
            {
                "status": run.status,
                "customers_done": run.customers_done,
                "customers_total": run.customers_total,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
            }
            if run
            else None
        ),
    }


def customer_detail(shop: Shop, customer_shopify_id: int) -> dict[str, Any] | None:
    """One shopper as the merchant sees them: who, what they told (current and history), their
    profile, and their newest orders. None when the shop knows no such shopper."""
    customer = Customer.objects.for_shop(shop).filter(shopify_id=customer_shopify_id).first()
    profile = Profile.objects.for_shop(shop).filter(customer_shopify_id=customer_shopify_id).first()
    if customer is None and profile is None:
        return None
    return {
        "customer_shopify_id": customer_shopify_id,
        "name": _name(customer),
        "email": customer.email if customer else "",
        "told": facts_current(shop, [customer_shopify_id]).get(customer_shopify_id, {}),
        "history": fact_history(shop, customer_shopify_id),
        "profile": profile,
        "orders": list(
            Order.objects.for_shop(shop)
            .filter(customer_shopify_id=customer_shopify_id)
            .order_by("-shopify_created_at", "-shopify_id")[:CUSTOMER_ORDERS_SHOWN]
        ),
    }


def fact_labels() -> dict[str, str]:
    return {str(name): str(label) for name, label in Fact.Name.choices}


def _name(customer: Customer | None) -> str:
    if customer is None:
        return ""
    return f"{customer.first_name} {customer.last_name}".strip()


def fact_display(name: str, value: Any) -> str:
    """A fact's value in words for the admin (dates without a year, lists joined)."""
    if value is None:
        return ""
    if name == Fact.Name.BIRTHDAY:
        return date(2024, value["month"], value["day"]).strftime("%B %-d")
    if name == Fact.Name.REGION:
        return "-".join(part for part in (value.get("region") or value.get("country"),) if part)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_joined(item)}" for key, item in value.items())
    return _joined(value)


def _joined(value: Any) -> str:
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
