"""Constructed shop history for the overview's tests: orders, storefront events, the ledger,
newsletter subscriptions, profiles and told facts, each made the way the app stores them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.utils import timezone

from commerce.models import Customer, Order
from loyalty.models import Entry, Member
from newsletters.models import Subscriber, Subscription, SubscriptionStatus, Topic
from personalize.models import Fact, FactSource, Profile, StorefrontEvent
from shop_app.models import Shop

_ids = count(1000)


class History:
    """Rows of one shop's history, made by name."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def customer(self, customer_id: int) -> Customer:
        return Customer.objects.create(
            shop=self.shop, shopify_id=customer_id, email=f"c{customer_id}@example.com"
        )

    def order(self, customer_id: int | None, at: datetime, total: str, *, cancelled: bool = False) -> Order:
        return Order.objects.create(
            shop=self.shop,
            shopify_id=next(_ids),
            name=f"#{next(_ids)}",
            customer_shopify_id=customer_id,
            currency="USD",
            total_price=Decimal(total),
            subtotal_price=Decimal(total),
            total_discounts=Decimal(0),
            total_tax=Decimal(0),
            shopify_created_at=at,
            shopify_updated_at=at,
            cancelled_at=at if cancelled else None,
        )

    def event(self, kind: str, block: str, at: datetime, customer_id: int | None = None) -> StorefrontEvent:
        return StorefrontEvent.objects.create(
            shop=self.shop,
            kind=kind,
            block=block,
            at=at,
            customer_shopify_id=customer_id,
            product_shopify_id=1,
        )

    def member(self, customer_id: int, joined_at: datetime, *, holdout: bool = False) -> Member:
        return Member.objects.create(
            shop=self.shop, customer_shopify_id=customer_id, joined_at=joined_at, holdout=holdout
        )

    def entry(self, member: Member, points: int, kind: str, at: datetime) -> Entry:
        return Entry.objects.create(
            shop=self.shop,
            member=member,
            points=points,
            kind=kind,
            cause=kind,
            idempotency_key=f"k{next(_ids)}",
            created_at=at,
        )

    def topic(self, handle: str) -> Topic:
        return Topic.objects.create(
            shop=self.shop, handle=handle, names={"en": handle.title(), "ja": f"{handle} (ja)"}
        )

    def subscription(
        self, topic: Topic, confirmed_at: datetime | None, left_at: datetime | None = None
    ) -> Subscription:
        subscriber = Subscriber.objects.create(shop=self.shop, email=f"r{next(_ids)}@example.com")
        return Subscription.objects.create(
            shop=self.shop,
            subscriber=subscriber,
            topic=topic,
            cadence="monthly",
            status=SubscriptionStatus.UNSUBSCRIBED if left_at else SubscriptionStatus.CONFIRMED,
            confirmed_at=confirmed_at,
            unsubscribed_at=left_at,
        )

    def profile(self, customer_id: int, segment: str) -> Profile:
        return Profile.objects.create(
            shop=self.shop,
            customer_shopify_id=customer_id,
            as_of=timezone.localdate(),
            segment=segment,
            computed_at=timezone.now(),
        )

    def fact(self, customer_id: int, name: str, value: Any, at: datetime, *, withdrawn: bool = False) -> Fact:
        return Fact.objects.create(
            shop=self.shop,
            customer_shopify_id=customer_id,
            name=name,
            value=None if withdrawn else value,
            withdrawn=withdrawn,
            source=FactSource.STOREFRONT,
            stated_at=at,
        )


@pytest.fixture
def history() -> Callable[[Shop], History]:
    return History


@pytest.fixture
def days_ago() -> Callable[..., datetime]:
    """days_ago(n, hour=12): noon (by default) n days before today, in UTC."""

    def at(days: int, hour: int = 12) -> datetime:
        today = (
            timezone.now()
            .astimezone(timezone.get_fixed_timezone(0))
            .replace(hour=hour, minute=0, second=0, microsecond=0)
        )
        return today - timedelta(days=days)

    return at
