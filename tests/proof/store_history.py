"""A store's year as the webhooks Shopify sends about it, for the load proof (test_load.py).

Shoppers sign up and change their details; orders are placed (some by new shoppers at checkout,
some by guests), paid, fulfilled, sent elsewhere, refunded a line at a time and cancelled. Each
change is the webhook Shopify emits for it, in the order it emits them, shaped as devstore shapes
them (the whole customer inside every order, the whole order in every orders/updated). Orders are
changed several times, often twice in one second (paid then fulfilled, refunded then marked so):
Shopify's `updated_at` has no more precision, and only X-Shopify-Triggered-At orders those two.

Seeded: the same seed and start give the same history, byte for byte.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from commerce.models import Variant
from shop_app.models import Shop
from tests.personalize.histories import product_row
from tests.webhooks.conftest import sign

CURRENCY = "USD"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CatalogProduct:
    shopify_id: int
    product_type: str
    sizes: tuple[str, ...]
    price: Decimal

    def variant_id(self, size: str) -> int:
        """As tests.personalize.histories.product_row numbers them."""
        return self.shopify_id * 100 + (self.sizes.index(size) if size else 0)


_TYPES = (
    ("Shirts", ("S", "M", "L", "XL")),
    ("Trousers", ("30", "32", "34")),
    ("Shoes", ("40", "42", "44")),
    ("Bags", ()),
    ("Hats", ()),
    ("Socks", ("M", "L")),
)
CATALOG = tuple(
    CatalogProduct(
        shopify_id=kind * 4 + number + 1,
        product_type=product_type,
        sizes=sizes,
        price=Decimal(9 + 13 * ((kind * 4 + number) % 7)) + Decimal("0.99"),
    )
    for kind, (product_type, sizes) in enumerate(_TYPES)
    for number in range(4)
)


def catalog_create(shop: Shop) -> None:
    """The products the history's orders buy, with their variants and prices."""
    for product in CATALOG:
        product_row(shop, product.shopify_id, product.product_type, sizes=product.sizes)
        Variant.objects.for_shop(shop).filter(product__shopify_id=product.shopify_id).update(
            price=product.price
        )


@dataclass(frozen=True)
class Event:
    """One event as Shopify emits it: delivered any number of times, always with these."""

    topic: str
    event_id: str
    triggered_at: datetime
    body: bytes
    # The order or customer the event is about, by Shopify id (refunds: their order).
    subject: int

    def headers(self, shop_domain: str, webhook_id: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": self.topic,
            "X-Shopify-Hmac-Sha256": sign(self.body),
            "X-Shopify-Shop-Domain": shop_domain,
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": self.event_id,
            # Nanoseconds, as Shopify writes them.
            "X-Shopify-Triggered-At": f"{self.triggered_at:%Y-%m-%dT%H:%M:%S.%f}000Z",
        }


def _stamp(at: datetime) -> str:
    """Shopify's resource times: to the second."""
    return at.replace(microsecond=0).isoformat()


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


_CITIES = (
    ("Portland", "Oregon", "OR", "US", "97201"),
    ("Austin", "Texas", "TX", "US", "73301"),
    ("Toronto", "Ontario", "ON", "CA", "M5H 2N2"),
    ("Lyon", "Auvergne-Rhone-Alpes", "ARA", "FR", "69001"),
    ("Sydney", "New South Wales", "NSW", "AU", "2000"),
    ("Osaka", "Osaka", "27", "JP", "530-0001"),
    ("Miami", "Florida", "FL", "US", "33101"),
)
_FIRST = ("Ada", "Ben", "Chloe", "Dai", "Emi", "Farid", "Grace", "Hugo", "Ines", "Jun", "Kofi", "Lena")
_LAST = ("Smith", "Tanaka", "Moreau", "Okafor", "Rossi", "Novak", "Silva", "Kim", "Berg", "Haddad")
_TAGS = ("vip", "wholesale", "newsletter", "returning", "local")


@dataclass
class _Order:
    payload: dict[str, Any]
    # Line id -> (units not refunded yet, unit price).
    refundable: dict[int, tuple[int, Decimal]] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.payload["cancelled_at"] is None and self.payload["fulfillment_status"] is None

    @property
    def paid(self) -> bool:
        return self.payload["cancelled_at"] is None and self.payload["financial_status"] in (
            "paid",
            "partially_refunded",
        )


class _Store:
    """The store as Shopify holds it, emitting an event for each change."""

    def __init__(self, rng: random.Random, start: datetime, mean_gap_seconds: float) -> None:
        self.rng = rng
        self.clock = start
        self.mean_gap = mean_gap_seconds
        self.events: list[Event] = []
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, _Order] = {}
        self.order_ids: list[int] = []
        self.serial = 0

    def _id(self, base: int) -> int:
        self.serial += 1
        return base + self.serial

    def _emit(self, topic: str, body: dict[str, Any], subject: int, at: datetime) -> None:
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.events.append(Event(topic, event_id, at, json.dumps(body).encode(), subject))

    def _same_second_or_next(self, at: datetime) -> datetime:
        """A moment after `at`: in the same second when there is room (a follow-up Shopify makes at
        once, so that only the triggered-at tells the two states apart)."""
        room = 999_999 - at.microsecond
        return at + timedelta(microseconds=self.rng.randint(1, room) if room > 1 else 1_000_001 - room)

    def _address(self) -> dict[str, Any]:
        city, province, province_code, country, zip_code = self.rng.choice(_CITIES)
        return {
            "address1": f"{self.rng.randint(1, 999)} Market Street",
            "city": city,
            "province": province,
            "province_code": province_code,
            "country_code": country,
            "zip": zip_code,
        }

    # --- Customers --------------------------------------------------------------------------

    def signup(self, at: datetime) -> int:
        customer_id = self._id(7_000_000_000)
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        address = {**self._address(), "first_name": first, "last_name": last, "default": True}
        address["id"] = address["customer_id"] = customer_id
        subscribed = self.rng.random() < 0.6
        self.customers[customer_id] = {
            "id": customer_id,
            "email": f"{first}.{last}.{customer_id % 100_000}@example.com".lower(),
            "created_at": _stamp(at),
            "updated_at": _stamp(at),
            "first_name": first,
            "last_name": last,
            "orders_count": 0,
            "state": "enabled",
            "note": None,
            "verified_email": True,
            "tax_exempt": False,
            "tags": "",
            "currency": CURRENCY,
            "phone": None,
            "addresses": [address],
            "default_address": address,
            "email_marketing_consent": {
                "state": "subscribed" if subscribed else "not_subscribed",
                "opt_in_level": "single_opt_in" if subscribed else None,
                "consent_updated_at": _stamp(at) if subscribed else None,
            },
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        }
        self._emit("customers/create", self.customers[customer_id], customer_id, at)
        return customer_id

    def customer_update(self, at: datetime) -> None:
        customer = self.customers[self.rng.choice(list(self.customers))]
        if _stamp(at) <= customer["updated_at"]:
            # Two states of a shopper in one second: a customer row keeps no triggered-at (orders
            # do), so nothing could tell them apart. Such a history is not made.
            return
        change = self.rng.randrange(4)
        if change == 0:
            customer["last_name"] = self.rng.choice(_LAST)
        elif change == 1:
            tags = set(filter(None, customer["tags"].split(", ")))
            tags ^= {self.rng.choice(_TAGS)}
            customer["tags"] = ", ".join(sorted(tags))
        elif change == 2:
            subscribed = customer["email_marketing_consent"]["state"] == "subscribed"
            customer["email_marketing_consent"] = {
                "state": "unsubscribed" if subscribed else "subscribed",
                "opt_in_level": "single_opt_in",
                "consent_updated_at": _stamp(at),
            }
        else:
            address = {**customer["default_address"], **self._address()}
            customer["default_address"] = address
            customer["addresses"] = [address]
        customer["updated_at"] = _stamp(at)
        self._emit("customers/update", customer, customer["id"], at)

    # --- Orders -----------------------------------------------------------------------------

    def place(self, at: datetime) -> None:
        draw = self.rng.random()
        customer: dict[str, Any] | None
        if not self.customers or draw < 0.1:
            customer = self.customers[self.signup(at)]  # signed up at checkout
            at = self._same_second_or_next(at)
        elif draw < 0.15:
            customer = None  # a guest
        else:
            customer = self.customers[self.rng.choice(list(self.customers))]
        order_id = self._id(5_000_000_000)
        order = _Order(payload={})
        lines = []
        for product in self.rng.sample(CATALOG, self.rng.randint(1, 3)):
            line_id = self._id(9_000_000_000)
            size = self.rng.choice(product.sizes) if product.sizes else ""
            quantity = self.rng.choice((1, 1, 1, 2, 3))
            order.refundable[line_id] = (quantity, product.price)
            lines.append(
                {
                    "id": line_id,
                    "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                    "product_id": product.shopify_id,
                    "variant_id": product.variant_id(size),
                    "title": f"{product.product_type} {product.shopify_id}",
                    "variant_title": size or None,
                    "sku": f"SKU-{product.variant_id(size)}",
                    "quantity": quantity,
                    "current_quantity": quantity,
                    "price": _money(product.price),
                }
            )
        items = sum((product_price * units for units, product_price in order.refundable.values()), Decimal(0))
        discounts = (items * Decimal("0.1")).quantize(CENT) if self.rng.random() < 0.2 else Decimal(0)
        subtotal = items - discounts
        shipping = Decimal(0) if subtotal >= 50 else Decimal("5.00")
        tax = (subtotal * Decimal("0.08")).quantize(CENT)
        address = dict(customer["default_address"]) if customer else self._address()
        email = customer["email"] if customer else f"guest.{order_id % 100_000}@example.com"
        order.payload = {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": f"#{1000 + len(self.order_ids)}",
            "email": email,
            "contact_email": email,
            "created_at": _stamp(at),
            "updated_at": _stamp(at),
            "processed_at": _stamp(at),
            "cancelled_at": None,
            "cancel_reason": None,
            "currency": CURRENCY,
            "subtotal_price": _money(subtotal),
            "total_line_items_price": _money(items),
            "total_discounts": _money(discounts),
            "total_tax": _money(tax),
            "total_price": _money(subtotal + shipping + tax),
            "financial_status": "paid" if self.rng.random() < 0.85 else "pending",
            "fulfillment_status": None,
            "customer": customer,
            "shipping_address": address,
            "billing_address": address,
            "line_items": lines,
        }
        self.orders[order_id] = order
        self.order_ids.append(order_id)
        self._order_emit("orders/create", order, at)
        if order.paid and self.rng.random() < 0.3:
            self._fulfil(order, self._same_second_or_next(at))

    def _order_emit(self, topic: str, order: _Order, at: datetime) -> None:
        """The order as it now is, its shopper as they now are."""
        payload = order.payload
        if payload["customer"] is not None:
            payload["customer"] = self.customers[payload["customer"]["id"]]
        payload["updated_at"] = _stamp(at)
        self._emit(topic, payload, payload["id"], at)

    def _recent_order(self) -> _Order | None:
        """An order among the last few hundred: changes come while orders are fresh."""
        if not self.order_ids:
            return None
        return self.orders[self.rng.choice(self.order_ids[-300:])]

    def pay(self, at: datetime) -> None:
        order = self._recent_order()
        if order is None or order.payload["cancelled_at"] or order.payload["financial_status"] != "pending":
            return
        order.payload["financial_status"] = "paid"
        self._order_emit("orders/updated", order, at)
        if self.rng.random() < 0.5:
            self._fulfil(order, self._same_second_or_next(at))

    def fulfil(self, at: datetime) -> None:
        order = self._recent_order()
        if order is not None and order.open and order.paid:
            self._fulfil(order, at)

    def _fulfil(self, order: _Order, at: datetime) -> None:
        order.payload["fulfillment_status"] = "fulfilled"
        self._order_emit("orders/updated", order, at)

    def readdress(self, at: datetime) -> None:
        order = self._recent_order()
        if order is None or not order.open:
            return
        address = {**order.payload["shipping_address"], **self._address()}
        order.payload["shipping_address"] = address
        self._order_emit("orders/updated", order, at)

    def refund(self, at: datetime) -> None:
        order = self._recent_order()
        if order is None or not order.paid:
            return
        left = [line_id for line_id, (units, _) in order.refundable.items() if units]
        if not left:
            return
        line_id = self.rng.choice(left)
        units = self.rng.randint(1, order.refundable[line_id][0])
        self._refund(order, {line_id: units}, at)
        financial = "partially_refunded" if any(u for u, _ in order.refundable.values()) else "refunded"
        order.payload["financial_status"] = financial
        self._order_emit("orders/updated", order, self._same_second_or_next(at))

    def _refund(self, order: _Order, units_by_line: dict[int, int], at: datetime) -> None:
        refund_id = self._id(3_000_000_000)
        refund_lines = []
        total = Decimal(0)
        for line_id, units in units_by_line.items():
            held, price = order.refundable[line_id]
            order.refundable[line_id] = (held - units, price)
            subtotal = price * units
            total += subtotal
            refund_lines.append(
                {
                    "id": self._id(3_500_000_000),
                    "line_item_id": line_id,
                    "quantity": units,
                    "restock_type": "return",
                    "subtotal": _money(subtotal),
                    "subtotal_set": {"shop_money": {"amount": _money(subtotal), "currency_code": CURRENCY}},
                    "total_tax": "0.00",
                }
            )
        body = {
            "id": refund_id,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "order_id": order.payload["id"],
            "created_at": _stamp(at),
            "processed_at": _stamp(at),
            "note": None,
            "restock": True,
            "refund_line_items": refund_lines,
            "transactions": [
                {
                    "id": refund_id,
                    "order_id": order.payload["id"],
                    "kind": "refund",
                    "status": "success",
                    "amount": _money(total),
                    "currency": CURRENCY,
                    "gateway": "bogus",
                    "created_at": _stamp(at),
                }
            ],
            "order_adjustments": [],
        }
        self._emit("refunds/create", body, order.payload["id"], at)

    def cancel(self, at: datetime) -> None:
        order = self._recent_order()
        if order is None or not order.open:
            return
        if order.paid:
            left = {line_id: units for line_id, (units, _) in order.refundable.items() if units}
            if left:
                self._refund(order, left, at)
                at = self._same_second_or_next(at)
            order.payload["financial_status"] = "refunded"
        else:
            order.payload["financial_status"] = "voided"
        order.payload["cancelled_at"] = _stamp(at)
        order.payload["cancel_reason"] = "customer"
        self._order_emit("orders/updated", order, at)


def store_history(events: int, *, seed: int, start: datetime, end: datetime) -> list[Event]:
    """The first `events` events of a store between `start` and `end` (UTC), in the order Shopify
    emits them."""
    rng = random.Random(seed)
    # About one event a step (some steps find nothing to change): the history ends near nine tenths
    # of the way.
    store = _Store(rng, start, (end - start).total_seconds() / events * 0.9)
    actions = (
        (store.customer_update, 10),
        (store.place, 28),
        (store.pay, 4),
        (store.fulfil, 16),
        (store.readdress, 4),
        (store.refund, 8),
        (store.cancel, 3),
    )
    while len(store.events) < events:
        store.clock += timedelta(seconds=rng.expovariate(1 / store.mean_gap))
        if len(store.customers) < 600 and rng.random() < 0.12:
            store.signup(store.clock)
            continue
        action = rng.choices([do for do, _ in actions], weights=[weight for _, weight in actions])[0]
        if action is not store.place and not store.customers:
            continue
        action(store.clock)
        # A follow-up may have moved past the clock: the next change comes after it.
        store.clock = max(store.clock, store.events[-1].triggered_at) if store.events else store.clock
    history = store.events[:events]
    assert history[-1].triggered_at < end, "the history ran past its end: lengthen it"
    return history
