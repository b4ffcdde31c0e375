"""Webhook bodies, shaped like Shopify's REST-style webhook payloads."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from devstore import catalog, customers, orders
from devstore.db import Database, Row
from devstore.formats import gid, rest_money_set

LOCATION_ID = 1  # one location per shop


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def customer_payload(customer: Row, shop: Row) -> dict[str, Any]:
    address = customers.customer_address(customer)
    default_address = None
    if address:
        default_address = {
            "id": customer["id"],
            "customer_id": customer["id"],
            "first_name": customer["first_name"],
            "last_name": customer["last_name"],
            "address1": address.get("address1"),
            "city": address.get("city"),
            "province": address.get("province"),
            "province_code": address.get("province_code"),
            "country": address.get("country"),
            "country_code": address.get("country_code"),
            "zip": address.get("zip"),
            "phone": customer["phone"],
            "default": True,
        }
    return {
        "id": customer["id"],
        "email": customer["email"],
        "created_at": customer["created_at"],
        "updated_at": customer["updated_at"],
        "first_name": customer["first_name"],
        "last_name": customer["last_name"],
        "orders_count": customer["orders_count"],
        "state": customer["state"].lower(),
        "total_spent": customer["amount_spent"],
        "note": customer["note"] or None,
        "verified_email": True,
        "tax_exempt": False,
        "tags": customer["tags"],
        "currency": shop["currency"],
        "phone": customer["phone"],
        "addresses": [default_address] if default_address else [],
        "default_address": default_address,
        "email_marketing_consent": {
            "state": customer["marketing_state"].lower(),
            "opt_in_level": customer["marketing_opt_in_level"].lower(),
            "consent_updated_at": customer["consent_updated_at"],
        },
        "admin_graphql_api_id": gid("Customer", customer["id"]),
    }


def customer_deleted_payload(customer: Row) -> dict[str, Any]:
    return {
        "id": customer["id"],
        "phone": customer["phone"],
        "addresses": [],
        "tax_exemptions": [],
        "email_marketing_consent": None,
        "sms_marketing_consent": None,
        "admin_graphql_api_id": gid("Customer", customer["id"]),
    }


def consent_payload(customer: Row) -> dict[str, Any]:
    return {
        "customer_id": customer["id"],
        "email_address": customer["email"],
        "email_marketing_consent": {
            "state": customer["marketing_state"].lower(),
            "opt_in_level": customer["marketing_opt_in_level"].lower(),
            "consent_updated_at": customer["consent_updated_at"],
        },
    }


def line_item_payload(item: Row, currency: str) -> dict[str, Any]:
    return {
        "id": item["id"],
        "admin_graphql_api_id": gid("LineItem", item["id"]),
        "variant_id": item["variant_id"],
        "product_id": item["product_id"],
        "title": item["title"],
        "variant_title": item["variant_title"] or None,
        "name": f"{item['title']} - {item['variant_title']}" if item["variant_title"] else item["title"],
        "sku": item["sku"] or None,
        "quantity": item["quantity"],
        "current_quantity": item["quantity"],
        "fulfillable_quantity": item["quantity"] - item["fulfilled_quantity"],
        "fulfillment_status": "fulfilled" if item["fulfilled_quantity"] >= item["quantity"] else None,
        "price": item["price"],
        "price_set": rest_money_set(item["price"], currency),
        "total_discount": item["total_discount"],
        "total_discount_set": rest_money_set(item["total_discount"], currency),
        "vendor": None,
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
    }


def refund_payload(db: Database, refund: Row, order: Row) -> dict[str, Any]:
    items = {i["id"]: i for i in orders.order_line_items(db, order["id"])}
    refund_lines = []
    for row in orders.refund_line_items(db, refund["id"]):
        item = items.get(row["line_item_id"])
        refund_lines.append(
            {
                "id": row["id"],
                "line_item_id": row["line_item_id"],
                "quantity": row["quantity"],
                "restock_type": "return" if row["restock"] else "no_restock",
                "location_id": LOCATION_ID if row["restock"] else None,
                "subtotal": row["subtotal"],
                "subtotal_set": rest_money_set(row["subtotal"], order["currency"]),
                "total_tax": "0.00",
                "line_item": line_item_payload(item, order["currency"]) if item else None,
            }
        )
    return {
        "id": refund["id"],
        "admin_graphql_api_id": gid("Refund", refund["id"]),
        "order_id": order["id"],
        "created_at": refund["created_at"],
        "processed_at": refund["created_at"],
        "note": refund["note"] or None,
        "restock": any(r["restock_type"] == "return" for r in refund_lines),
        "refund_line_items": refund_lines,
        "transactions": [
            {
                "id": refund["id"],
                "order_id": order["id"],
                "kind": "refund",
                "status": "success",
                "amount": refund["amount"],
                "currency": order["currency"],
                "gateway": "bogus",
                "created_at": refund["created_at"],
            }
        ],
        "order_adjustments": [],
    }


def order_payload(db: Database, order: Row, shop: Row) -> dict[str, Any]:
    currency = order["currency"]
    items = orders.order_line_items(db, order["id"])
    customer = customers.customer_get(db, shop["id"], order["customer_id"]) if order["customer_id"] else None
    address = json.loads(order["shipping_address"]) if order["shipping_address"] else None
    fulfillment = order["fulfillment_status"]
    refunds = [refund_payload(db, r, order) for r in orders.order_refunds(db, order["id"])]
    total_line_items = sum((Decimal(i["price"]) * i["quantity"] for i in items), Decimal("0"))
    return {
        "id": order["id"],
        "admin_graphql_api_id": gid("Order", order["id"]),
        "name": order["name"],
        "order_number": order["number"],
        "number": order["number"] - 1000,
        "email": order["email"],
        "contact_email": order["email"],
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "processed_at": order["processed_at"],
        "cancelled_at": order["cancelled_at"],
        "cancel_reason": _lower(order["cancel_reason"]),
        "closed_at": order["closed_at"],
        "currency": currency,
        "presentment_currency": currency,
        "subtotal_price": order["subtotal_price"],
        "subtotal_price_set": rest_money_set(order["subtotal_price"], currency),
        "total_line_items_price": str(total_line_items),
        "total_line_items_price_set": rest_money_set(total_line_items, currency),
        "total_discounts": order["total_discounts"],
        "total_discounts_set": rest_money_set(order["total_discounts"], currency),
        "total_tax": order["total_tax"],
        "total_tax_set": rest_money_set(order["total_tax"], currency),
        "total_shipping_price_set": rest_money_set(order["total_shipping"], currency),
        "total_price": order["total_price"],
        "total_price_set": rest_money_set(order["total_price"], currency),
        "current_total_price": order["total_price"],
        "financial_status": _lower(order["financial_status"]),
        "fulfillment_status": "fulfilled"
        if fulfillment == "FULFILLED"
        else ("partial" if fulfillment == "PARTIALLY_FULFILLED" else None),
        "discount_codes": json.loads(order["discount_codes"] or "[]"),
        "note": order["note"] or None,
        "tags": order["tags"],
        "test": False,
        "confirmed": True,
        "buyer_accepts_marketing": bool(customer and customer["marketing_state"] == "SUBSCRIBED"),
        "customer": customer_payload(customer, shop) if customer else None,
        "shipping_address": address,
        "billing_address": address,
        "line_items": [line_item_payload(i, currency) for i in items],
        "refunds": refunds,
        "shipping_lines": [{"title": "Standard", "price": order["total_shipping"], "code": "STANDARD"}],
    }


def _rest_timestamp_millis(stamp: str) -> str:
    """2026-01-01T00:00:00Z -> 2026-01-01T00:00:00.000Z, the spelling of variant_gids' updated_at."""
    return stamp[:-1] + ".000Z" if stamp.endswith("Z") and "." not in stamp else stamp


def _rest_image(product: Row) -> dict[str, Any] | None:
    if not product["image_url"]:
        return None
    return {
        "id": product["id"],
        "product_id": product["id"],
        "position": 1,
        "created_at": product["created_at"],
        "updated_at": product["updated_at"],
        "alt": product["title"],
        "width": None,
        "height": None,
        "src": product["image_url"],
        "variant_ids": [],
        "admin_graphql_api_id": gid("ProductImage", product["id"]),
    }


def _rest_media(product: Row) -> list[dict[str, Any]]:
    """The product's image as its one media item: the image's fields, its picture as the preview."""
    image = _rest_image(product)
    if image is None:
        return []
    shared = {k: image[k] for k in ("id", "product_id", "position", "created_at", "updated_at", "alt")}
    picture = {k: image[k] for k in ("width", "height", "src")}
    return [
        {
            **shared,
            "status": "READY",
            "media_content_type": "IMAGE",
            "preview_image": {**picture, "status": "READY"},
            "variant_ids": image["variant_ids"],
            "admin_graphql_api_id": gid("MediaImage", product["id"]),
        }
    ]


def variant_payload(variant: Row, option_names: list[str]) -> dict[str, Any]:
    selected = {o["name"]: o["value"] for o in json.loads(variant["selected_options"])}
    values = [selected.get(name) for name in option_names[:3]]
    values += [None] * (3 - len(values))
    return {
        "admin_graphql_api_id": gid("ProductVariant", variant["id"]),
        "barcode": None,
        "compare_at_price": variant["compare_at_price"],
        "created_at": variant["created_at"],
        "id": variant["id"],
        "inventory_policy": "deny",
        "position": variant["position"],
        "price": variant["price"],
        "product_id": variant["product_id"],
        "sku": variant["sku"] or None,
        "taxable": True,
        "title": variant["title"],
        "updated_at": variant["updated_at"],
        "option1": values[0],
        "option2": values[1],
        "option3": values[2],
        "image_id": None,
        # One inventory item per variant, with the variant's id (see inventory_level_payload).
        "inventory_item_id": variant["id"],
        "inventory_quantity": variant["inventory_quantity"],
        "old_inventory_quantity": variant["inventory_quantity"],
    }


def product_payload(db: Database, product: Row) -> dict[str, Any]:
    """products/create and products/update: the product with its variants, options and image."""
    variants = catalog.product_variants(db, product["id"])
    options = catalog.product_options(product, variants)
    image = _rest_image(product)
    return {
        "admin_graphql_api_id": gid("Product", product["id"]),
        "body_html": catalog.body_html(product),
        "created_at": product["created_at"],
        "handle": product["handle"],
        "id": product["id"],
        "product_type": product["product_type"],
        "published_at": product["created_at"],
        "template_suffix": None,
        "title": product["title"],
        "updated_at": product["updated_at"],
        "vendor": product["vendor"],
        "status": product["status"].lower(),
        "published_scope": "web",
        "tags": product["tags"],
        "variants": [variant_payload(v, [o["name"] for o in options]) for v in variants],
        "options": [
            {
                "id": catalog.product_option_id(product["id"], option["position"]),
                "product_id": product["id"],
                "name": option["name"],
                "position": option["position"],
                "values": option["values"],
            }
            for option in options
        ],
        "images": [image] if image else [],
        "image": image,
        "media": _rest_media(product),
        "variant_gids": [
            {
                "admin_graphql_api_id": gid("ProductVariant", v["id"]),
                "updated_at": _rest_timestamp_millis(v["updated_at"]),
            }
            for v in sorted(variants, key=lambda v: v["updated_at"], reverse=True)
        ],
        "has_variants_that_requires_components": False,
        "category": None,
    }


def product_deleted_payload(product: Row) -> dict[str, Any]:
    return {"id": product["id"]}


def _rest_sort_order(value: str) -> str:
    """CollectionSortOrder -> the REST spelling: BEST_SELLING -> best-selling."""
    return value.lower().replace("_", "-")


def collection_payload(collection: Row) -> dict[str, Any]:
    """collections/create and collections/update. Membership is not in it: read it from the API."""
    return {
        "id": collection["id"],
        "handle": collection["handle"],
        "title": collection["title"],
        "updated_at": collection["updated_at"],
        "body_html": catalog.body_html(collection) or None,
        "published_at": collection["published_at"],
        "sort_order": _rest_sort_order(collection["sort_order"]),
        "template_suffix": None,
        "published_scope": "web",
        "admin_graphql_api_id": gid("Collection", collection["id"]),
    }


def collection_deleted_payload(collection: Row) -> dict[str, Any]:
    return {
        "id": collection["id"],
        "published_scope": "web",
        "admin_graphql_api_id": gid("Collection", collection["id"]),
    }


def inventory_level_payload(variant: Row) -> dict[str, Any]:
    # One inventory item per variant, with the variant's id, and one location.
    return {
        "inventory_item_id": variant["id"],
        "location_id": LOCATION_ID,
        "available": variant["inventory_quantity"],
        "updated_at": variant["updated_at"],
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{LOCATION_ID}?inventory_item_id={variant['id']}",
    }


def shop_payload(shop: Row) -> dict[str, Any]:
    return {
        "id": shop["id"],
        "name": shop["name"],
        "email": shop["email"],
        "domain": shop["domain"],
        "myshopify_domain": shop["domain"],
        "currency": shop["currency"],
        "iana_timezone": shop["timezone"],
        "country_code": shop["country_code"],
        "plan_name": shop["plan"].lower(),
        "created_at": shop["created_at"],
    }


def customers_data_request_payload(
    shop: Row, customer: Row | None, customer_id: int, order_ids: list[int], request_id: int
) -> dict[str, Any]:
    return {
        "shop_id": shop["id"],
        "shop_domain": shop["domain"],
        "orders_requested": order_ids,
        "customer": {
            "id": customer_id,
            "email": customer["email"] if customer else None,
            "phone": customer["phone"] if customer else None,
        },
        "data_request": {"id": request_id},
    }


def customers_redact_payload(
    shop: Row, customer: Row | None, customer_id: int, order_ids: list[int]
) -> dict[str, Any]:
    return {
        "shop_id": shop["id"],
        "shop_domain": shop["domain"],
        "customer": {
            "id": customer_id,
            "email": customer["email"] if customer else None,
            "phone": customer["phone"] if customer else None,
        },
        "orders_to_redact": order_ids,
    }


def shop_redact_payload(shop: Row) -> dict[str, Any]:
    return {"shop_id": shop["id"], "shop_domain": shop["domain"]}
