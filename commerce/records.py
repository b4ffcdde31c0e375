"""Normalized, typed records of Shopify orders, customers, refunds, products with their variants
and collections, and the adapters that build them from the two shapes Shopify sends: REST-style
webhook payloads and Admin GraphQL nodes.

Whatever the source, a record says the same thing the same way: ids are integers (the gid is
derived when the API wants it), money is Decimal with its currency, times are aware UTC, statuses
are lower-case snake words (`paid`, `partially_refunded`, `unfulfilled`), emails are lower-case
(privacy.identifiers: compared without regard to case, by `=`). Anything malformed raises
IngestError with a message naming the field, never a bare KeyError.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

from privacy.identifiers import email_normalize
from shop_app.times import iso_time_parse
from shop_app.work import PermanentError

P = ParamSpec("P")
R = TypeVar("R")


class IngestError(PermanentError, ValueError):
    """A payload or node is not shaped the way Shopify documents it. Retrying will not help."""


def payload_adapter(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function that builds a record from Shopify's data: whatever malformed data makes it
    raise where no reader foresaw it (a KeyError, a TypeError from None, a ValueError) becomes an
    IngestError naming what was read, so that every caller treats it as the permanent failure it is.
    The original message is left out: it may quote the data (an email where a number was wanted)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def adapt(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except IngestError:
                raise
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise IngestError(f"{what}: malformed ({type(error).__name__})") from error

        return adapt

    return decorate


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class AddressRecord:
    city: str = ""
    province: str = ""
    province_code: str = ""
    country_code: str = ""
    zip: str = ""


@dataclass(frozen=True)
class EmailConsentRecord:
    state: str
    opt_in_level: str
    consent_updated_at: datetime | None


@dataclass(frozen=True)
class CustomerRecord:
    shopify_id: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None
    # None when Shopify did not say (e.g. the customer embedded in some order payloads): such a
    # record may create a missing customer but never overwrites one we hold.
    updated_at: datetime | None = None
    address: AddressRecord | None = None
    email_consent: EmailConsentRecord | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/Customer/{self.shopify_id}"

    def without_personal_data(self) -> CustomerRecord:
        country = self.address.country_code if self.address else ""
        return replace(
            self,
            email="",
            first_name="",
            last_name="",
            phone="",
            tags=(),
            address=AddressRecord(country_code=country),
        )


@dataclass(frozen=True)
class OrderLineRecord:
    shopify_id: int
    quantity: int
    unit_price: Money
    title: str = ""
    sku: str = ""
    product_id: int | None = None
    variant_id: int | None = None


@dataclass(frozen=True)
class OrderRecord:
    shopify_id: int
    name: str
    created_at: datetime
    updated_at: datetime
    currency: str
    total_price: Money
    subtotal_price: Money
    total_discounts: Money
    total_tax: Money
    financial_status: str = ""
    fulfillment_status: str = "unfulfilled"
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    email: str = ""
    customer_id: int | None = None
    customer: CustomerRecord | None = None
    shipping_address: AddressRecord | None = None
    lines: tuple[OrderLineRecord, ...] = field(default=())

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.shopify_id}"

    def without_personal_data(self) -> OrderRecord:
        """The anonymous part of the order: amounts, lines, statuses, country; no one to contact."""
        country = self.shipping_address.country_code if self.shipping_address else ""
        return replace(
            self,
            email="",
            customer_id=None,
            customer=None,
            shipping_address=AddressRecord(country_code=country),
        )


@dataclass(frozen=True)
class RefundLineRecord:
    shopify_id: int
    line_item_id: int
    quantity: int
    subtotal: Money
    restock_type: str = ""


@dataclass(frozen=True)
class RefundRecord:
    shopify_id: int
    order_id: int
    created_at: datetime
    amount: Money
    processed_at: datetime | None = None
    note: str = ""
    lines: tuple[RefundLineRecord, ...] = ()


# --- Field readers ----------------------------------------------------------------------------


def shopify_id(value: Any, field_name: str = "id") -> int:
    """An integer id from a bare integer, a digit string or a gid (`gid://shopify/Order/123`)."""
    if isinstance(value, bool):
        raise IngestError(f"{field_name}: not an id")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.rsplit("/", 1)[-1].split("?", 1)[0]
        if text.isdigit():
            return int(text)
    raise IngestError(f"{field_name}: not an id")


def optional_id(value: Any, field_name: str) -> int | None:
    return None if value in (None, "") else shopify_id(value, field_name)


def integer(value: Any, field_name: str) -> int:
    """A count (a quantity, stock): a JSON integer, a whole float (2.0) or a digit string ("2")."""
    if isinstance(value, bool):
        raise IngestError(f"{field_name}: not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.removeprefix("-").isdigit():
            return int(digits)
    raise IngestError(f"{field_name}: not an integer")


def optional_integer(value: Any, field_name: str) -> int | None:
    return None if value in (None, "") else integer(value, field_name)


def aware_utc(value: Any, field_name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise IngestError(f"{field_name}: not a time")
    try:
        return iso_time_parse(value)
    except ValueError as error:
        raise IngestError(f"{field_name}: not an ISO 8601 time") from error


def required_time(value: Any, field_name: str) -> datetime:
    parsed = aware_utc(value, field_name)
    if parsed is None:
        raise IngestError(f"{field_name}: missing")
    return parsed


def decimal_amount(value: Any, field_name: str) -> Decimal:
    if value is None or isinstance(value, bool):
        raise IngestError(f"{field_name}: missing amount")
    try:
        # str() first: Shopify writes some amounts as JSON numbers (89.99), and Decimal(float)
        # would carry the binary error into the ledger.
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise IngestError(f"{field_name}: not an amount") from error
    if not amount.is_finite():
        raise IngestError(f"{field_name}: not an amount")
    return amount.quantize(Decimal("0.01"))


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def require(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise IngestError(f"{where}: expected an object, got {type(data).__name__}")
    if key not in data or data[key] is None:
        raise IngestError(f"{where}.{key}: missing")
    return data[key]


def tag_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(sorted({str(item).strip() for item in items if str(item).strip()}))


def status_word(value: Any) -> str:
    """`PARTIALLY_REFUNDED` and `partially_refunded` alike."""
    return text(value).lower()


# Webhooks spell fulfillment status REST-style (null, "partial"); GraphQL's displayFulfillmentStatus
# is the vocabulary we keep.
_REST_FULFILLMENT = {"": "unfulfilled", "partial": "partially_fulfilled", "fulfilled": "fulfilled"}


def fulfillment_word(value: Any) -> str:
    word = status_word(value)
    return _REST_FULFILLMENT.get(word, word)


# --- Webhook payloads (REST shapes) -----------------------------------------------------------


def _rest_money(payload: dict[str, Any], key: str, currency: str) -> Money:
    money_set = payload.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop_money = money_set["shop_money"]
        return Money(
            decimal_amount(shop_money.get("amount"), f"{key}_set.shop_money.amount"),
            text(shop_money.get("currency_code")) or currency,
        )
    raw = payload.get(key)
    return Money(decimal_amount(raw if raw is not None else "0", key), currency)


def _rest_address(data: Any) -> AddressRecord | None:
    if not isinstance(data, dict):
        return None
    return AddressRecord(
        city=text(data.get("city")),
        province=text(data.get("province")),
        province_code=text(data.get("province_code")),
        country_code=text(data.get("country_code")).upper(),
        zip=text(data.get("zip")),
    )


def _rest_consent(data: Any) -> EmailConsentRecord | None:
    if not isinstance(data, dict) or not data.get("state"):
        return None
    return EmailConsentRecord(
        state=status_word(data.get("state")),
        opt_in_level=status_word(data.get("opt_in_level")),
        consent_updated_at=aware_utc(
            data.get("consent_updated_at"), "email_marketing_consent.consent_updated_at"
        ),
    )


@payload_adapter("customer")
def customer_record_from_webhook(payload: Any) -> CustomerRecord:
    """From a customers/create or customers/update payload, or the customer inside an order."""
    customer_id = shopify_id(require(payload, "id", "customer"), "customer.id")
    return CustomerRecord(
        shopify_id=customer_id,
        email=email_normalize(payload.get("email")),
        first_name=text(payload.get("first_name")),
        last_name=text(payload.get("last_name")),
        phone=text(payload.get("phone")),
        tags=tag_tuple(payload.get("tags")),
        created_at=aware_utc(payload.get("created_at"), "customer.created_at"),
        updated_at=aware_utc(payload.get("updated_at"), "customer.updated_at"),
        address=_rest_address(payload.get("default_address")),
        email_consent=_rest_consent(payload.get("email_marketing_consent")),
    )


@payload_adapter("order")
def order_record_from_webhook(payload: Any) -> OrderRecord:
    """From an orders/* webhook payload (create, updated, paid, cancelled, fulfilled)."""
    order_id = shopify_id(require(payload, "id", "order"), "order.id")
    currency = text(require(payload, "currency", "order"))
    lines = []
    for index, item in enumerate(payload.get("line_items") or []):
        where = f"line_items[{index}]"
        lines.append(
            OrderLineRecord(
                shopify_id=shopify_id(require(item, "id", where), f"{where}.id"),
                quantity=integer(require(item, "quantity", where), f"{where}.quantity"),
                unit_price=_rest_money(item, "price", currency),
                title=text(item.get("title")),
                sku=text(item.get("sku")),
                product_id=optional_id(item.get("product_id"), f"{where}.product_id"),
                variant_id=optional_id(item.get("variant_id"), f"{where}.variant_id"),
            )
        )
    customer_data = payload.get("customer")
    customer = (
        customer_record_from_webhook(customer_data)
        if isinstance(customer_data, dict) and customer_data.get("id")
        else None
    )
    return OrderRecord(
        shopify_id=order_id,
        name=text(payload.get("name")),
        created_at=required_time(payload.get("created_at"), "order.created_at"),
        updated_at=required_time(payload.get("updated_at") or payload.get("created_at"), "order.updated_at"),
        processed_at=aware_utc(payload.get("processed_at"), "order.processed_at"),
        cancelled_at=aware_utc(payload.get("cancelled_at"), "order.cancelled_at"),
        currency=currency,
        total_price=_rest_money(payload, "total_price", currency),
        subtotal_price=_rest_money(payload, "subtotal_price", currency),
        total_discounts=_rest_money(payload, "total_discounts", currency),
        total_tax=_rest_money(payload, "total_tax", currency),
        financial_status=status_word(payload.get("financial_status")),
        fulfillment_status=fulfillment_word(payload.get("fulfillment_status")),
        email=email_normalize(payload.get("email") or payload.get("contact_email")),
        customer_id=customer.shopify_id if customer else None,
        customer=customer,
        shipping_address=_rest_address(payload.get("shipping_address")),
        lines=tuple(lines),
    )


@payload_adapter("refund")
def refund_record_from_webhook(payload: Any) -> RefundRecord:
    """From a refunds/create payload. The amount is what was paid back (successful refund
    transactions); a refund without transactions (a restock only) refunds nothing."""
    refund_id = shopify_id(require(payload, "id", "refund"), "refund.id")
    order_id = shopify_id(require(payload, "order_id", "refund"), "refund.order_id")
    currency = ""
    lines = []
    for index, item in enumerate(payload.get("refund_line_items") or []):
        where = f"refund_line_items[{index}]"
        subtotal = _rest_money(item, "subtotal", currency)
        currency = currency or subtotal.currency
        lines.append(
            RefundLineRecord(
                shopify_id=shopify_id(require(item, "id", where), f"{where}.id"),
                line_item_id=shopify_id(require(item, "line_item_id", where), f"{where}.line_item_id"),
                quantity=integer(require(item, "quantity", where), f"{where}.quantity"),
                subtotal=subtotal,
                restock_type=status_word(item.get("restock_type")),
            )
        )
    total = Decimal("0.00")
    for index, transaction in enumerate(payload.get("transactions") or []):
        if (
            status_word(transaction.get("kind")) == "refund"
            and status_word(transaction.get("status")) == "success"
        ):
            total += decimal_amount(transaction.get("amount"), f"transactions[{index}].amount")
            currency = currency or text(transaction.get("currency"))
    return RefundRecord(
        shopify_id=refund_id,
        order_id=order_id,
        created_at=required_time(payload.get("created_at"), "refund.created_at"),
        processed_at=aware_utc(payload.get("processed_at"), "refund.processed_at"),
        note=text(payload.get("note")),
        amount=Money(total, currency),
        lines=tuple(lines),
    )


# --- Admin GraphQL nodes ----------------------------------------------------------------------


def _graphql_money(node: dict[str, Any], key: str, currency: str) -> Money:
    money_bag = node.get(key)
    if not isinstance(money_bag, dict) or not isinstance(money_bag.get("shopMoney"), dict):
        return Money(Decimal("0.00"), currency)
    shop_money = money_bag["shopMoney"]
    return Money(
        decimal_amount(shop_money.get("amount"), f"{key}.shopMoney.amount"),
        text(shop_money.get("currencyCode")) or currency,
    )


def _graphql_address(data: Any) -> AddressRecord | None:
    if not isinstance(data, dict):
        return None
    return AddressRecord(
        city=text(data.get("city")),
        province=text(data.get("province")),
        province_code=text(data.get("provinceCode")),
        country_code=text(data.get("countryCodeV2")).upper(),
        zip=text(data.get("zip")),
    )


def _nodes(connection: Any) -> list[dict[str, Any]]:
    """A connection's nodes, whether queried as `nodes` or `edges { node }`."""
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return list(connection["nodes"])
    return [
        edge["node"] for edge in connection.get("edges") or [] if isinstance(edge, dict) and "node" in edge
    ]


@payload_adapter("customer")
def customer_record_from_graphql(node: Any) -> CustomerRecord:
    customer_id = shopify_id(require(node, "id", "customer"), "customer.id")
    consent = node.get("emailMarketingConsent")
    return CustomerRecord(
        shopify_id=customer_id,
        email=email_normalize(node.get("email")),
        first_name=text(node.get("firstName")),
        last_name=text(node.get("lastName")),
        phone=text(node.get("phone")),
        tags=tag_tuple(node.get("tags")),
        created_at=aware_utc(node.get("createdAt"), "customer.createdAt"),
        updated_at=aware_utc(node.get("updatedAt"), "customer.updatedAt"),
        address=_graphql_address(node.get("defaultAddress")),
        email_consent=(
            EmailConsentRecord(
                state=status_word(consent.get("marketingState")),
                opt_in_level=status_word(consent.get("marketingOptInLevel")),
                consent_updated_at=aware_utc(
                    consent.get("consentUpdatedAt"), "emailMarketingConsent.consentUpdatedAt"
                ),
            )
            if isinstance(consent, dict) and consent.get("marketingState")
            else None
        ),
    )


@payload_adapter("order")
def order_record_from_graphql(node: Any) -> OrderRecord:
    order_id = shopify_id(require(node, "id", "order"), "order.id")
    currency = text(require(node, "currencyCode", "order"))
    lines = []
    for index, item in enumerate(_nodes(node.get("lineItems"))):
        where = f"lineItems[{index}]"
        variant = item.get("variant")
        product = item.get("product")
        lines.append(
            OrderLineRecord(
                shopify_id=shopify_id(require(item, "id", where), f"{where}.id"),
                quantity=integer(require(item, "quantity", where), f"{where}.quantity"),
                unit_price=_graphql_money(item, "originalUnitPriceSet", currency),
                title=text(item.get("title")),
                sku=text(item.get("sku")),
                product_id=optional_id(product.get("id"), f"{where}.product.id")
                if isinstance(product, dict)
                else None,
                variant_id=optional_id(variant.get("id"), f"{where}.variant.id")
                if isinstance(variant, dict)
                else None,
            )
        )
    customer_node = node.get("customer")
    customer = None
    customer_id = None
    if isinstance(customer_node, dict) and customer_node.get("id"):
        customer_id = shopify_id(customer_node["id"], "order.customer.id")
        # Only a full customer node (with updatedAt) is a customer record; a bare {id} is a reference.
        if "updatedAt" in customer_node or "email" in customer_node:
            customer = customer_record_from_graphql(customer_node)
    return OrderRecord(
        shopify_id=order_id,
        name=text(node.get("name")),
        created_at=required_time(node.get("createdAt"), "order.createdAt"),
        updated_at=required_time(node.get("updatedAt") or node.get("createdAt"), "order.updatedAt"),
        processed_at=aware_utc(node.get("processedAt"), "order.processedAt"),
        cancelled_at=aware_utc(node.get("cancelledAt"), "order.cancelledAt"),
        currency=currency,
        total_price=_graphql_money(node, "totalPriceSet", currency),
        subtotal_price=_graphql_money(node, "subtotalPriceSet", currency),
        total_discounts=_graphql_money(node, "totalDiscountsSet", currency),
        total_tax=_graphql_money(node, "totalTaxSet", currency),
        financial_status=status_word(node.get("displayFinancialStatus")),
        fulfillment_status=status_word(node.get("displayFulfillmentStatus")) or "unfulfilled",
        email=email_normalize(node.get("email")),
        customer_id=customer_id,
        customer=customer,
        shipping_address=_graphql_address(node.get("shippingAddress")),
        lines=tuple(lines),
    )


@payload_adapter("refund")
def refund_record_from_graphql(node: Any, order_id: int | str) -> RefundRecord:
    """From an Order.refunds entry: `id createdAt note totalRefundedSet refundLineItems{nodes{id
    quantity restockType lineItem{id} subtotalSet}}`."""
    refund_id = shopify_id(require(node, "id", "refund"), "refund.id")
    amount = _graphql_money(node, "totalRefundedSet", "")
    lines = []
    for index, item in enumerate(_nodes(node.get("refundLineItems"))):
        where = f"refundLineItems[{index}]"
        line_item = require(item, "lineItem", where)
        line_id = shopify_id(require(line_item, "id", f"{where}.lineItem"), f"{where}.lineItem.id")
        lines.append(
            RefundLineRecord(
                shopify_id=shopify_id(item.get("id") or line_id, f"{where}.id"),
                line_item_id=line_id,
                quantity=integer(require(item, "quantity", where), f"{where}.quantity"),
                subtotal=_graphql_money(item, "subtotalSet", amount.currency),
                restock_type=status_word(item.get("restockType")),
            )
        )
    return RefundRecord(
        shopify_id=refund_id,
        order_id=shopify_id(order_id, "order.id"),
        created_at=required_time(node.get("createdAt"), "refund.createdAt"),
        processed_at=aware_utc(node.get("processedAt"), "refund.processedAt"),
        note=text(node.get("note")),
        amount=amount,
        lines=tuple(lines),
    )


# --- The catalog ------------------------------------------------------------------------------
# Shopify does not say a variant's currency: prices are in the shop's currency, which the callers
# pass in (Shop.currency, copied from Shopify at install).

# `options` entries and `selectedOptions` give options by name; a REST variant has them by
# position (option1..option3), named by the product's `options`. A position the product does not
# name (Shopify's own sample payload has `"options": []`) keeps the REST field's name.
_REST_OPTION_FIELDS = ("option1", "option2", "option3")


@dataclass(frozen=True)
class VariantRecord:
    shopify_id: int
    price: Money
    title: str = ""
    position: int = 0
    options: dict[str, str] = field(default_factory=dict)
    compare_at_price: Money | None = None
    sku: str = ""
    inventory_item_id: int | None = None
    # Shopify's total available over all locations; None when it did not say.
    inventory_quantity: int | None = None
    # When the variant last changed (a stock change moves it); None when Shopify did not say.
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProductRecord:
    shopify_id: int
    updated_at: datetime
    title: str = ""
    handle: str = ""
    product_type: str = ""
    vendor: str = ""
    tags: tuple[str, ...] = ()
    status: str = "active"
    image_url: str = ""
    created_at: datetime | None = None
    variants: tuple[VariantRecord, ...] = ()

    @property
    def gid(self) -> str:
        return f"gid://shopify/Product/{self.shopify_id}"


@dataclass(frozen=True)
class CollectionRecord:
    shopify_id: int
    handle: str = ""
    title: str = ""
    updated_at: datetime | None = None
    # The members' product ids, or None when the source does not carry them (collections/* webhooks
    # do not: the members are read from the Admin API).
    product_ids: tuple[int, ...] | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/Collection/{self.shopify_id}"


def _optional_amount(value: Any, field_name: str, currency: str) -> Money | None:
    return None if value in (None, "") else Money(decimal_amount(value, field_name), currency)


def _rest_option_names(payload: dict[str, Any]) -> list[str]:
    options = [option for option in payload.get("options") or [] if isinstance(option, dict)]
    options.sort(key=lambda option: optional_integer(option.get("position"), "options.position") or 0)
    return [text(option.get("name")) for option in options]


def _rest_image_url(payload: dict[str, Any]) -> str:
    """The product's featured image: `image`, else the first of `images`, else the first medium."""
    image = payload.get("image")
    if isinstance(image, dict) and text(image.get("src")):
        return text(image["src"])
    for candidate in payload.get("images") or []:
        if isinstance(candidate, dict) and text(candidate.get("src")):
            return text(candidate["src"])
    for medium in payload.get("media") or []:
        preview = medium.get("preview_image") if isinstance(medium, dict) else None
        if isinstance(preview, dict) and text(preview.get("src")):
            return text(preview["src"])
    return ""


@payload_adapter("product")
def product_record_from_webhook(payload: Any, currency: str) -> ProductRecord:
    """From a products/create or products/update payload."""
    product_id = shopify_id(require(payload, "id", "product"), "product.id")
    option_names = _rest_option_names(payload)
    variants = []
    for index, item in enumerate(payload.get("variants") or []):
        where = f"variants[{index}]"
        options = {}
        for position, option_field in enumerate(_REST_OPTION_FIELDS):
            value = text(item.get(option_field))
            if value:
                name = option_names[position] if position < len(option_names) else ""
                options[name or option_field] = value
        variants.append(
            VariantRecord(
                shopify_id=shopify_id(require(item, "id", where), f"{where}.id"),
                title=text(item.get("title")),
                position=optional_integer(item.get("position"), f"{where}.position") or index + 1,
                options=options,
                price=Money(decimal_amount(require(item, "price", where), f"{where}.price"), currency),
                compare_at_price=_optional_amount(
                    item.get("compare_at_price"), f"{where}.compare_at_price", currency
                ),
                sku=text(item.get("sku")),
                inventory_item_id=optional_id(item.get("inventory_item_id"), f"{where}.inventory_item_id"),
                inventory_quantity=optional_integer(
                    item.get("inventory_quantity"), f"{where}.inventory_quantity"
                ),
                updated_at=aware_utc(item.get("updated_at"), f"{where}.updated_at"),
            )
        )
    return ProductRecord(
        shopify_id=product_id,
        title=text(payload.get("title")),
        handle=text(payload.get("handle")),
        product_type=text(payload.get("product_type")),
        vendor=text(payload.get("vendor")),
        tags=tag_tuple(payload.get("tags")),
        status=status_word(payload.get("status")) or "active",
        image_url=_rest_image_url(payload),
        created_at=aware_utc(payload.get("created_at"), "product.created_at"),
        updated_at=required_time(payload.get("updated_at"), "product.updated_at"),
        variants=tuple(variants),
    )


@payload_adapter("collection")
def collection_record_from_webhook(payload: Any) -> CollectionRecord:
    """From a collections/create or collections/update payload, which carries no members."""
    return CollectionRecord(
        shopify_id=shopify_id(require(payload, "id", "collection"), "collection.id"),
        handle=text(payload.get("handle")),
        title=text(payload.get("title")),
        updated_at=aware_utc(payload.get("updated_at"), "collection.updated_at"),
    )


def _graphql_image_url(node: dict[str, Any]) -> str:
    """`featuredMedia { preview { image { url } } }`, else the older `featuredImage { url }`."""
    media = node.get("featuredMedia")
    preview = media.get("preview") if isinstance(media, dict) else None
    image = preview.get("image") if isinstance(preview, dict) else None
    if isinstance(image, dict) and text(image.get("url")):
        return text(image["url"])
    featured = node.get("featuredImage")
    return text(featured.get("url")) if isinstance(featured, dict) else ""


@payload_adapter("product")
def product_record_from_graphql(node: Any, currency: str) -> ProductRecord:
    """From a Product node with its `variants` (as `nodes` or `edges`); fields: graphql_fields."""
    product_id = shopify_id(require(node, "id", "product"), "product.id")
    variants = []
    for index, item in enumerate(_nodes(node.get("variants"))):
        where = f"variants[{index}]"
        options = {}
        for position, selected in enumerate(item.get("selectedOptions") or []):
            name = text(require(selected, "name", f"{where}.selectedOptions[{position}]"))
            options[name] = text(selected.get("value"))
        inventory_item = item.get("inventoryItem")
        variants.append(
            VariantRecord(
                shopify_id=shopify_id(require(item, "id", where), f"{where}.id"),
                title=text(item.get("title")),
                position=optional_integer(item.get("position"), f"{where}.position") or index + 1,
                options=options,
                price=Money(decimal_amount(require(item, "price", where), f"{where}.price"), currency),
                compare_at_price=_optional_amount(
                    item.get("compareAtPrice"), f"{where}.compareAtPrice", currency
                ),
                sku=text(item.get("sku")),
                inventory_item_id=optional_id(inventory_item.get("id"), f"{where}.inventoryItem.id")
                if isinstance(inventory_item, dict)
                else None,
                inventory_quantity=optional_integer(
                    item.get("inventoryQuantity"), f"{where}.inventoryQuantity"
                ),
                updated_at=aware_utc(item.get("updatedAt"), f"{where}.updatedAt"),
            )
        )
    return ProductRecord(
        shopify_id=product_id,
        title=text(node.get("title")),
        handle=text(node.get("handle")),
        product_type=text(node.get("productType")),
        vendor=text(node.get("vendor")),
        tags=tag_tuple(node.get("tags")),
        status=status_word(node.get("status")) or "active",
        image_url=_graphql_image_url(node),
        created_at=aware_utc(node.get("createdAt"), "product.createdAt"),
        updated_at=required_time(node.get("updatedAt"), "product.updatedAt"),
        variants=tuple(variants),
    )


@payload_adapter("collection")
def collection_record_from_graphql(node: Any) -> CollectionRecord:
    """From a Collection node; its members are its `products` ids when the node has them."""
    members = None
    if "products" in node:
        members = tuple(
            shopify_id(require(product, "id", f"products[{index}]"), f"products[{index}].id")
            for index, product in enumerate(_nodes(node["products"]))
        )
    return CollectionRecord(
        shopify_id=shopify_id(require(node, "id", "collection"), "collection.id"),
        handle=text(node.get("handle")),
        title=text(node.get("title")),
        updated_at=aware_utc(node.get("updatedAt"), "collection.updatedAt"),
        product_ids=members,
    )
