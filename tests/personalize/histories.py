"""Shoppers' histories built by hand, for the profile tests: as arrays (the pure computation) or as
rows (the database path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import numpy as np

from commerce.models import Customer, Order, OrderLine, Product, Refund, RefundLine, Variant
from personalize.clv import clv_fit, clv_input_from_orders
from personalize.profiles import History, ProductTraits, ShopParameters
from shop_app.models import Shop

AS_OF = date(2026, 11, 30)
_ids = count(1_000)


def days_before(days: float, as_of: date = AS_OF) -> datetime:
    """Noon UTC, `days` days before `as_of`."""
    return datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC) - timedelta(days=days)


def parameters(**overrides: object) -> ShopParameters:
    """Fixed parameters, so that a test's answer does not depend on the other shoppers."""
    values: dict[str, object] = {
        "half_life_days": 180.0,
        "recency_breaks": (20.0, 60.0, 120.0, 240.0),
        "frequency_breaks": (1.0, 1.0, 2.0, 3.0),
        "monetary_breaks": (3_000.0, 6_000.0, 12_000.0, 25_000.0),
        "price_breaks": (2_000.0, 5_000.0),
        "typical_gap_days": 60.0,
        "clv": small_shop_clv(),
        "currency": "USD",
    }
    values.update(overrides)
    return ShopParameters(**values)  # type: ignore[arg-type]


def small_shop_clv() -> dict[str, object]:
    """The model of a shop with too little history to fit: the honest fallback."""
    data = clv_input_from_orders(
        np.array([0, 0, 1]), np.array([0.0, 30.0, 10.0]), np.array([10.0, 10.0, 5.0]), 100.0
    )
    return clv_fit(data).to_json()


@dataclass
class Line:
    product: int
    quantity: int = 1
    unit_cents: int = 2_500
    size: str = ""
    refunded: int = 0


@dataclass
class Purchase:
    customer: int
    days_ago: float
    lines: list[Line] = field(default_factory=lambda: [Line(product=1)])
    refund_cents: int = 0
    country: str = ""


def history_of(
    purchases: list[Purchase],
    products: dict[int, ProductTraits] | None = None,
    *,
    addresses: dict[int, tuple[str, str]] | None = None,
    customers: list[int] | None = None,
) -> History:
    """The arrays personalize.history would load for these purchases."""
    ids = np.unique(np.array([p.customer for p in purchases] + (customers or []), dtype=np.int64))
    order_customer = np.searchsorted(ids, [p.customer for p in purchases]).astype(np.int64)
    order_time = np.array([days_before(p.days_ago).timestamp() for p in purchases], dtype=np.float64)
    line_index = [(index, line) for index, p in enumerate(purchases) for line in p.lines]
    return History(
        customers=ids,
        order_customer=order_customer,
        order_id=np.arange(1, len(purchases) + 1, dtype=np.int64),
        order_time=order_time,
        order_cents=np.array(
            [sum(line.quantity * line.unit_cents for line in p.lines) - p.refund_cents for p in purchases],
            dtype=np.int64,
        ),
        order_country=np.array([p.country for p in purchases], dtype=str),
        line_customer=np.array([order_customer[i] for i, _ in line_index], dtype=np.int64),
        line_order_id=np.array([i + 1 for i, _ in line_index], dtype=np.int64),
        line_time=np.array([order_time[i] for i, _ in line_index], dtype=np.float64),
        line_product=np.array([line.product for _, line in line_index], dtype=np.int64),
        line_kept=np.array([line.quantity - line.refunded for _, line in line_index], dtype=np.int64),
        line_unit_cents=np.array([line.unit_cents for _, line in line_index], dtype=np.int64),
        line_size=np.array([line.size for _, line in line_index], dtype=str),
        products=products or {},
        addresses=addresses or {},
    )


# --- As rows --------------------------------------------------------------------------------------


def product_row(
    shop: Shop, shopify_id: int, product_type: str = "Shirts", *, sizes: tuple[str, ...] = ()
) -> Product:
    product = Product.objects.create(
        shop=shop,
        shopify_id=shopify_id,
        title=f"{product_type} {shopify_id}",
        handle=f"{product_type.lower()}-{shopify_id}",
        product_type=product_type,
        vendor="Omakase Goods",
        tags="cotton, summer",
    )
    for position, size in enumerate(sizes or ("",)):
        Variant.objects.create(
            shop=shop,
            product=product,
            shopify_id=shopify_id * 100 + position,
            position=position,
            options={"Size": size} if size else {},
            price=Decimal("25.00"),
            currency="USD",
            available=5,
        )
    return product


def customer_row(
    shop: Shop, shopify_id: int, *, country: str = "", province: str = "", **fields: str
) -> Customer:
    return Customer.objects.create(
        shop=shop, shopify_id=shopify_id, country_code=country, province_code=province, **fields
    )


def order_row(
    shop: Shop,
    customer: int,
    days_ago: float,
    lines: list[Line],
    *,
    refund_cents: int = 0,
    cancelled: bool = False,
    country: str = "",
) -> Order:
    placed = days_before(days_ago)
    total = Decimal(sum(line.quantity * line.unit_cents for line in lines)) / 100
    order = Order.objects.create(
        shop=shop,
        shopify_id=next(_ids),
        name=f"#{next(_ids)}",
        customer_shopify_id=customer,
        currency="USD",
        total_price=total,
        subtotal_price=total,
        total_discounts=Decimal("0"),
        total_tax=Decimal("0"),
        shipping_country_code=country,
        shopify_created_at=placed,
        shopify_updated_at=placed,
        cancelled_at=placed if cancelled else None,
    )
    refund = None
    if refund_cents or any(line.refunded for line in lines):
        refund = Refund.objects.create(
            shop=shop,
            shopify_id=next(_ids),
            order_shopify_id=order.shopify_id,
            order=order,
            amount=Decimal(refund_cents) / 100,
            currency="USD",
            shopify_created_at=placed,
        )
    for line in lines:
        row = OrderLine.objects.create(
            shop=shop,
            order=order,
            shopify_id=next(_ids),
            product_id=line.product,
            variant_id=_variant_id(shop, line),
            quantity=line.quantity,
            unit_price=Decimal(line.unit_cents) / 100,
            currency="USD",
        )
        if line.refunded and refund is not None:
            RefundLine.objects.create(
                shop=shop,
                refund=refund,
                shopify_id=next(_ids),
                line_item_shopify_id=row.shopify_id,
                quantity=line.refunded,
                subtotal=Decimal(line.refunded * line.unit_cents) / 100,
                currency="USD",
            )
    return order


def _variant_id(shop: Shop, line: Line) -> int | None:
    variants = Variant.objects.for_shop(shop).filter(product__shopify_id=line.product)
    if line.size:
        variants = variants.filter(options__Size=line.size)
    return variants.values_list("shopify_id", flat=True).first()
