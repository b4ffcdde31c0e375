"""Rows -> GraphQL objects: dicts with Shopify's field names; nested fields load lazily.

graphql-core's default resolver calls a callable field value with (info, **args), so a
lambda in a dict is a resolver that only runs when the query asks for that field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from devstore import catalog, customers, discounts, metafields, orders
from devstore.admin_api.connections import list_connection
from devstore.context import Devstore
from devstore.db import Row
from devstore.formats import gid, gid_parse, money_bag, money_str
from devstore.webhooks import subscription_gid, topic_to_enum


@dataclass
class RequestContext:
    ds: Devstore
    shop: Row
    bulk: bool = False


def ctx(info: GraphQLResolveInfo) -> RequestContext:
    context: RequestContext = info.context
    return context


def _tags(text: str) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def money_v2(amount: Decimal | str, currency: str) -> dict[str, str]:
    return {"amount": money_str(amount), "currencyCode": currency}


def count(value: int) -> dict[str, Any]:
    return {"count": value, "precision": "EXACT"}


# ---------------------------------------------------------------- shop


def shop_node(shop: Row) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": gid("Shop", shop["id"]),
        "name": shop["name"],
        "email": shop["email"],
        "contactEmail": shop["email"],
        "myshopifyDomain": shop["domain"],
        "url": f"https://{shop['domain']}",
        "currencyCode": shop["currency"],
        "ianaTimezone": shop["timezone"],
        "timezoneAbbreviation": "UTC",
        "createdAt": shop["created_at"],
        "primaryDomain": {
            "id": gid("Domain", shop["id"]),
            "host": shop["domain"],
            "url": f"https://{shop['domain']}",
            "sslEnabled": True,
        },
        "plan": {"displayName": shop["plan"], "partnerDevelopment": True, "shopifyPlus": False},
        "billingAddress": {
            "id": gid("ShopAddress", shop["id"]),
            "city": None,
            "country": None,
            "countryCodeV2": shop["country_code"],
            "province": None,
            "zip": None,
        },
    }


# ---------------------------------------------------------------- catalog


def image_node(product: Row) -> dict[str, Any] | None:
    """A product's one image (devstore keeps a single image per product)."""
    if not product["image_url"]:
        return None
    return {
        "__typename": "Image",
        "id": gid("ProductImage", product["id"]),
        "url": product["image_url"],
        "altText": product["title"],
        "width": None,
        "height": None,
    }


def media_image_node(product: Row) -> dict[str, Any] | None:
    """The product's image as its featured MediaImage, as Product.featuredMedia answers it."""
    image = image_node(product)
    if image is None:
        return None
    return {
        "__typename": "MediaImage",
        "id": gid("MediaImage", product["id"]),
        "alt": image["altText"],
        "mediaContentType": "IMAGE",
        "status": "READY",
        "image": image,
        "preview": {"image": image, "status": "READY"},
        "mimeType": None,
        "createdAt": product["created_at"],
        "updatedAt": product["updated_at"],
    }


def product_node(row: Row) -> dict[str, Any]:
    product_id = row["id"]
    # Up to six fields read the variants: loaded once per product, on the first that asks.
    loaded_variants: list[Row] | None = None

    def variants(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return list_connection(variant_rows(info), args, variant_node, bulk=ctx(info).bulk)

    def collections(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        rows = catalog.product_collections(ctx(info).ds.db, product_id)
        return list_connection(rows, args, collection_node, bulk=ctx(info).bulk)

    def variant_rows(info: GraphQLResolveInfo) -> list[Row]:
        nonlocal loaded_variants
        if loaded_variants is None:
            loaded_variants = catalog.product_variants(ctx(info).ds.db, product_id)
        return loaded_variants

    def price_range(info: GraphQLResolveInfo) -> dict[str, Any]:
        prices = [Decimal(v["price"]) for v in variant_rows(info)] or [Decimal("0")]
        currency = ctx(info).shop["currency"]
        return {
            "minVariantPrice": money_v2(min(prices), currency),
            "maxVariantPrice": money_v2(max(prices), currency),
        }

    def options(info: GraphQLResolveInfo, first: int | None = None) -> list[dict[str, Any]]:
        found = catalog.product_options(row, variant_rows(info))
        return [
            {
                **option,
                "__typename": "ProductOption",
                "id": gid("ProductOption", catalog.product_option_id(product_id, option["position"])),
            }
            for option in found[:first]
        ]

    def only_default_variant(info: GraphQLResolveInfo) -> bool:
        found = variant_rows(info)
        return len(found) == 1 and found[0]["title"] == "Default Title"

    def in_collection(info: GraphQLResolveInfo, id: str) -> bool:
        return catalog.collection_has_product(ctx(info).ds.db, gid_parse(id, "Collection"), product_id)

    return {
        "__typename": "Product",
        "id": gid("Product", product_id),
        "legacyResourceId": product_id,
        "title": row["title"],
        "handle": row["handle"],
        "description": row["description"],
        "descriptionHtml": catalog.body_html(row),
        "productType": row["product_type"],
        "vendor": row["vendor"],
        "tags": _tags(row["tags"]),
        "status": row["status"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "publishedAt": row["created_at"],
        "tracksInventory": True,
        "totalInventory": lambda info: sum(max(0, v["inventory_quantity"]) for v in variant_rows(info)),
        "hasOnlyDefaultVariant": only_default_variant,
        "inCollection": in_collection,
        "onlineStoreUrl": None,
        "featuredImage": image_node(row),
        "featuredMedia": media_image_node(row),
        "options": options,
        "priceRangeV2": price_range,
        "variants": variants,
        "collections": collections,
        "variantsCount": lambda info: count(len(variant_rows(info))),
        "metafield": _metafield_resolver("Product", product_id),
        "metafields": _metafields_resolver("Product", product_id),
    }


def variant_node(row: Row) -> dict[str, Any]:
    def product(info: GraphQLResolveInfo) -> dict[str, Any] | None:
        found = catalog.product_get(ctx(info).ds.db, row["shop_id"], row["product_id"])
        return product_node(found) if found else None

    def display_name(info: GraphQLResolveInfo) -> str:
        found = catalog.product_get(ctx(info).ds.db, row["shop_id"], row["product_id"])
        title = found["title"] if found else ""
        return title if row["title"] == "Default Title" else f"{title} - {row['title']}"

    # One inventory item per variant, sharing the variant's id (as inventory_levels/update says).
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", row["id"]),
        "legacyResourceId": row["id"],
        "title": row["title"],
        "displayName": display_name,
        "sku": row["sku"] or None,
        "barcode": None,
        "price": row["price"],
        "compareAtPrice": row["compare_at_price"],
        "position": row["position"],
        "taxable": True,
        "inventoryPolicy": "DENY",
        "availableForSale": row["inventory_quantity"] > 0,
        "inventoryQuantity": row["inventory_quantity"],
        "selectedOptions": json.loads(row["selected_options"]),
        "product": product,
        "inventoryItem": {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", row["id"]),
            "legacyResourceId": row["id"],
            "sku": row["sku"] or None,
            "tracked": True,
            "requiresShipping": True,
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        },
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def collection_node(row: Row) -> dict[str, Any]:
    def product_rows(info: GraphQLResolveInfo) -> list[Row]:
        # The Admin API lists every member, drafts included; the storefront only ACTIVE ones.
        return catalog.collection_products(ctx(info).ds.db, row["id"], limit=-1, active_only=False)

    def products(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return list_connection(product_rows(info), args, product_node, bulk=ctx(info).bulk)

    def has_product(info: GraphQLResolveInfo, id: str) -> bool:
        return catalog.collection_has_product(ctx(info).ds.db, row["id"], gid_parse(id, "Product"))

    return {
        "__typename": "Collection",
        "id": gid("Collection", row["id"]),
        "legacyResourceId": row["id"],
        "title": row["title"],
        "handle": row["handle"],
        "description": row["description"],
        "descriptionHtml": catalog.body_html(row),
        "sortOrder": row["sort_order"],
        "image": None,
        "updatedAt": row["updated_at"],
        "products": products,
        "hasProduct": has_product,
        "productsCount": lambda info: count(catalog.collection_product_count(ctx(info).ds.db, row["id"])),
    }


# ---------------------------------------------------------------- customers


def address_node(
    address: dict[str, Any] | None,
    owner_id: int,
    kind: str = "MailingAddress",
    first_name: str | None = None,
    last_name: str | None = None,
) -> dict[str, Any] | None:
    if not address:
        return None
    first = address.get("first_name", first_name)
    last = address.get("last_name", last_name)
    return {
        "__typename": "MailingAddress",
        "id": gid(kind, owner_id),
        "firstName": first,
        "lastName": last,
        "name": " ".join(p for p in (first, last) if p) or None,
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "zip": address.get("zip"),
        "phone": address.get("phone"),
    }


def metafield_node(row: Row) -> dict[str, Any]:
    def json_value(info: GraphQLResolveInfo) -> Any:
        if row["type"].startswith("list.") or row["type"] == "json":
            return json.loads(row["value"])
        if row["type"] == "number_integer":
            return int(row["value"])
        if row["type"] == "boolean":
            return row["value"] == "true"
        return row["value"]

    return {
        "__typename": "Metafield",
        "id": gid("Metafield", row["id"]),
        "namespace": row["namespace"],
        "key": row["key"],
        "value": row["value"],
        "type": row["type"],
        "jsonValue": json_value,
        "ownerType": row["owner_type"].upper(),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _metafield_resolver(owner_type: str, owner_id: int) -> Any:
    def resolve(info: GraphQLResolveInfo, key: str, namespace: str | None = None) -> dict[str, Any] | None:
        if namespace is None and "." in key:
            namespace, key = key.rsplit(".", 1)
        context = ctx(info)
        # No namespace means the app's own, as `$app` does.
        resolved = metafields.namespace_resolve(context.ds.config, namespace)
        if metafields.namespace_forbidden(context.ds.config, resolved):
            return None
        row = customers.metafield_get(context.ds.db, context.shop["id"], owner_type, owner_id, resolved, key)
        return metafield_node(row) if row else None

    return resolve


def _metafields_resolver(owner_type: str, owner_id: int) -> Any:
    def resolve(info: GraphQLResolveInfo, namespace: str | None = None, **args: Any) -> dict[str, Any]:
        context = ctx(info)
        config = context.ds.config
        resolved = metafields.namespace_resolve(config, namespace) if namespace else None
        rows = [
            row
            for row in customers.metafield_list(
                context.ds.db, context.shop["id"], owner_type, owner_id, resolved
            )
            # Another app's reserved metafields are not this app's to see.
            if not metafields.namespace_forbidden(config, row["namespace"])
        ]
        return list_connection(rows, args, metafield_node, bulk=context.bulk)

    return resolve


def customer_node(row: Row) -> dict[str, Any]:
    customer_id = row["id"]
    address = customers.customer_address(row)

    def orders_connection(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        # queries imports nodes to build its answers; importing it here breaks that cycle.
        from devstore.admin_api.queries import orders_connection as connection  # noqa: PLC0415

        return connection(info, extra=("customer_id = ?", customer_id), **args)

    def last_order(info: GraphQLResolveInfo) -> dict[str, Any] | None:
        from devstore.admin_api.queries import order_visible  # noqa: PLC0415 - the cycle above

        found = ctx(info).ds.db.one(
            "SELECT * FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT 1", (customer_id,)
        )
        found = order_visible(info, found)
        return order_node(found) if found else None

    default_address = address_node(
        address, customer_id, first_name=row["first_name"], last_name=row["last_name"]
    )
    display = " ".join(p for p in (row["first_name"], row["last_name"]) if p) or row["email"] or ""
    return {
        "__typename": "Customer",
        "id": gid("Customer", customer_id),
        "email": row["email"],
        "firstName": row["first_name"] or None,
        "lastName": row["last_name"] or None,
        "displayName": display,
        "phone": row["phone"],
        "note": row["note"] or None,
        "tags": _tags(row["tags"]),
        "state": row["state"],
        "verifiedEmail": True,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "numberOfOrders": row["orders_count"],
        "amountSpent": lambda info: money_v2(row["amount_spent"], ctx(info).shop["currency"]),
        "defaultAddress": default_address,
        "addresses": lambda info, first=None: [default_address] if default_address else [],
        "emailMarketingConsent": {
            "marketingState": row["marketing_state"],
            "marketingOptInLevel": row["marketing_opt_in_level"],
            "consentUpdatedAt": row["consent_updated_at"],
        }
        if row["email"]
        else None,
        "lastOrder": last_order,
        "metafield": _metafield_resolver("Customer", customer_id),
        "metafields": _metafields_resolver("Customer", customer_id),
        "orders": orders_connection,
    }


# ---------------------------------------------------------------- orders


def line_item_node(row: Row, currency: str) -> dict[str, Any]:
    unit = Decimal(row["price"])
    discount = Decimal(row["total_discount"])
    quantity = row["quantity"]

    def refunded(info: GraphQLResolveInfo) -> int:
        return int(
            ctx(info).ds.db.scalar(
                "SELECT COALESCE(SUM(quantity), 0) FROM refund_line_items WHERE line_item_id = ?",
                (row["id"],),
            )
        )

    def variant(info: GraphQLResolveInfo) -> dict[str, Any] | None:
        if not row["variant_id"]:
            return None
        found = catalog.variant_get(ctx(info).ds.db, row["shop_id"], row["variant_id"])
        return variant_node(found) if found else None

    def product(info: GraphQLResolveInfo) -> dict[str, Any] | None:
        if not row["product_id"]:
            return None
        found = catalog.product_get(ctx(info).ds.db, row["shop_id"], row["product_id"])
        return product_node(found) if found else None

    return {
        "__typename": "LineItem",
        "id": gid("LineItem", row["id"]),
        "title": row["title"],
        "name": f"{row['title']} - {row['variant_title']}" if row["variant_title"] else row["title"],
        "variantTitle": row["variant_title"] or None,
        "sku": row["sku"] or None,
        "vendor": None,
        "quantity": quantity,
        "currentQuantity": lambda info: quantity - refunded(info),
        "refundableQuantity": lambda info: quantity - refunded(info),
        "unfulfilledQuantity": quantity - row["fulfilled_quantity"],
        "originalUnitPriceSet": money_bag(unit, currency),
        "discountedUnitPriceSet": money_bag(unit - discount / quantity if quantity else unit, currency),
        "originalTotalSet": money_bag(unit * quantity, currency),
        "totalDiscountSet": money_bag(discount, currency),
        "variant": variant,
        "product": product,
    }


def refund_node(row: Row, order_row: Row) -> dict[str, Any]:
    currency = order_row["currency"]

    def refund_lines(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        db = ctx(info).ds.db
        items = {i["id"]: i for i in orders.order_line_items(db, order_row["id"])}

        def build(line: Row) -> dict[str, Any]:
            return {
                "__typename": "RefundLineItem",
                "id": gid("RefundLineItem", line["id"]),
                "quantity": line["quantity"],
                "restockType": "RETURN" if line["restock"] else "NO_RESTOCK",
                "restocked": bool(line["restock"]),
                "subtotalSet": money_bag(line["subtotal"], currency),
                "lineItem": line_item_node(items[line["line_item_id"]], currency),
            }

        return list_connection(orders.refund_line_items(db, row["id"]), args, build, bulk=ctx(info).bulk)

    return {
        "__typename": "Refund",
        "id": gid("Refund", row["id"]),
        "createdAt": row["created_at"],
        "updatedAt": row["created_at"],
        "note": row["note"] or None,
        "order": lambda info: order_node(order_row),
        "totalRefundedSet": money_bag(row["amount"], currency),
        "refundLineItems": refund_lines,
    }


def order_node(row: Row) -> dict[str, Any]:
    currency = row["currency"]
    shipping = json.loads(row["shipping_address"]) if row["shipping_address"] else None

    def customer(info: GraphQLResolveInfo) -> dict[str, Any] | None:
        if not row["customer_id"]:
            return None
        found = customers.customer_get(ctx(info).ds.db, row["shop_id"], row["customer_id"])
        return customer_node(found) if found else None

    def line_items(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        rows = orders.order_line_items(ctx(info).ds.db, row["id"])
        return list_connection(rows, args, lambda r: line_item_node(r, currency), bulk=ctx(info).bulk)

    def refund_rows(info: GraphQLResolveInfo) -> list[Row]:
        return orders.order_refunds(ctx(info).ds.db, row["id"])

    def refunds(info: GraphQLResolveInfo, first: int | None = None) -> list[dict[str, Any]]:
        rows = refund_rows(info)
        return [refund_node(r, row) for r in (rows[:first] if first is not None else rows)]

    def refunded(info: GraphQLResolveInfo) -> Decimal:
        return sum((Decimal(r["amount"]) for r in refund_rows(info)), Decimal("0"))

    def total_refunded(info: GraphQLResolveInfo) -> dict[str, Any]:
        return money_bag(refunded(info), currency)

    def current_total(info: GraphQLResolveInfo) -> dict[str, Any]:
        return money_bag(Decimal(row["total_price"]) - refunded(info), currency)

    return {
        "__typename": "Order",
        "id": gid("Order", row["id"]),
        "name": row["name"],
        "email": row["email"],
        "note": row["note"] or None,
        "tags": _tags(row["tags"]),
        "test": False,
        "closed": row["closed_at"] is not None,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "processedAt": row["processed_at"],
        "cancelledAt": row["cancelled_at"],
        "cancelReason": row["cancel_reason"],
        "closedAt": row["closed_at"],
        "displayFinancialStatus": row["financial_status"],
        "displayFulfillmentStatus": row["fulfillment_status"],
        "currencyCode": currency,
        "presentmentCurrencyCode": currency,
        "totalPriceSet": money_bag(row["total_price"], currency),
        "currentTotalPriceSet": current_total,
        "subtotalPriceSet": money_bag(row["subtotal_price"], currency),
        "totalDiscountsSet": money_bag(row["total_discounts"], currency),
        "totalTaxSet": money_bag(row["total_tax"], currency),
        "totalShippingPriceSet": money_bag(row["total_shipping"], currency),
        "totalRefundedSet": total_refunded,
        "discountCodes": [c["code"] for c in json.loads(row["discount_codes"] or "[]")],
        "customer": customer,
        "shippingAddress": address_node(shipping, row["id"]),
        "billingAddress": address_node(shipping, row["id"]),
        "lineItems": line_items,
        "refunds": refunds,
    }


# ---------------------------------------------------------------- discounts, webhooks, bulk


def discount_node(row: Row) -> dict[str, Any]:
    customer_ids = discounts.discount_customer_ids(row)

    def customer_list(info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        found = [customers.customer_get(ctx(info).ds.db, row["shop_id"], cid) for cid in customer_ids]
        return [customer_node(c) for c in found if c]

    def selection(info: GraphQLResolveInfo) -> dict[str, Any]:
        if customer_ids:
            return {"__typename": "DiscountCustomers", "customers": customer_list(info)}
        return {"__typename": "DiscountCustomerAll", "allCustomers": True}

    def context_(info: GraphQLResolveInfo) -> dict[str, Any]:
        if customer_ids:
            return {"__typename": "DiscountCustomers", "customers": customer_list(info)}
        return {"__typename": "DiscountBuyerSelectionAll", "all": "ALL"}

    def codes(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        code_row = {"id": row["id"], "code": row["code"], "usage_count": row["usage_count"]}
        return list_connection(
            [code_row],
            args,
            lambda r: {
                "__typename": "DiscountRedeemCode",
                "id": gid("DiscountRedeemCode", r["id"]),
                "code": r["code"],
                "asyncUsageCount": r["usage_count"],
            },
        )

    def value(info: GraphQLResolveInfo) -> dict[str, Any]:
        if row["value_type"] == "percentage":
            return {"__typename": "DiscountPercentage", "percentage": float(row["value"])}
        return {
            "__typename": "DiscountAmount",
            "amount": money_v2(row["value"], ctx(info).shop["currency"]),
            "appliesOnEachItem": bool(row["applies_on_each_item"]),
        }

    free_shipping = row["kind"] == "free_shipping"
    code_discount: dict[str, Any] = {
        "__typename": "DiscountCodeFreeShipping" if free_shipping else "DiscountCodeBasic",
        "title": row["title"],
        "status": discounts.discount_status(row),
        "summary": "Free shipping" if free_shipping else _summary(row),
        "startsAt": row["starts_at"],
        "endsAt": row["ends_at"],
        "createdAt": row["created_at"],
        "usageLimit": row["usage_limit"],
        "appliesOncePerCustomer": bool(row["applies_once_per_customer"]),
        "asyncUsageCount": row["usage_count"],
        "codesCount": count(1),
        "codes": codes,
        "customerSelection": selection,
        "context": context_,
    }
    if not free_shipping:
        code_discount["customerGets"] = {
            "value": value,
            "items": {"__typename": "AllDiscountItems", "allItems": True},
            "appliesOnOneTimePurchase": True,
            "appliesOnSubscription": False,
        }
    return {
        "__typename": "DiscountCodeNode",
        "id": gid("DiscountCodeNode", row["id"]),
        "codeDiscount": code_discount,
    }


def _summary(row: Row) -> str:
    if row["value_type"] == "percentage":
        value = Decimal(row["value"])
        percent = value * 100 if value <= 1 else value
        return f"{percent.normalize()}% off entire order"
    return f"{row['value']} off entire order"


def webhook_subscription_node(row: Row, api_version: str) -> dict[str, Any]:
    return {
        "__typename": "WebhookSubscription",
        "id": subscription_gid(row),
        "topic": topic_to_enum(row["topic"]),
        "uri": row["uri"],
        "callbackUrl": row["uri"],
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": row["uri"]},
        "format": row["format"],
        "apiVersion": {"handle": api_version, "displayName": api_version, "supported": True},
        "includeFields": [],
        "filter": None,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def bulk_operation_node(row: Row, public_url: str) -> dict[str, Any]:
    done = row["status"] == "COMPLETED"
    url = f"{public_url}/_devstore/bulk/{row['id']}.jsonl" if done and row["object_count"] else None
    return {
        "__typename": "BulkOperation",
        "id": gid("BulkOperation", row["id"]),
        "status": row["status"],
        "type": "QUERY",
        "errorCode": row["error_code"],
        "createdAt": row["created_at"],
        "completedAt": row["completed_at"],
        "objectCount": row["object_count"],
        "rootObjectCount": row["root_object_count"],
        "fileSize": len((row["result"] or "").encode()) if done and row["object_count"] else None,
        "url": url,
        "partialDataUrl": None,
        "query": row["query"],
    }
