"""Mutation root: the writes the app makes, each answering userErrors like Shopify."""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from graphql import GraphQLResolveInfo

from devstore import actions, customers, discounts, store_credit, web_pixels, webhooks
from devstore import metafields as metafields_rules
from devstore.admin_api import bulk, nodes
from devstore.admin_api.nodes import ctx
from devstore.admin_api.queries import node_by_gid
from devstore.formats import gid_parse, iso, iso_parse, now_iso


def _error(field: list[str] | None, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code, **extra}


def _customer_ids(
    info: GraphQLResolveInfo, data: dict[str, Any], root: str
) -> tuple[list[int], list[dict[str, Any]]]:
    """Customers from `context{customers{add}}` or the older `customerSelection{...}`."""
    ids: list[int] = []
    errors: list[dict[str, Any]] = []
    for key in ("context", "customerSelection"):
        section = data.get(key) or {}
        for index, value in enumerate((section.get("customers") or {}).get("add") or []):
            try:
                customer_id = gid_parse(value, "Customer")
            except ValueError:
                errors.append(
                    _error([root, key, "customers", "add", str(index)], "Customer is invalid", "INVALID")
                )
                continue
            context = ctx(info)
            if customers.customer_get(context.ds.db, context.shop["id"], customer_id) is None:
                errors.append(
                    _error([root, key, "customers", "add", str(index)], "Customer does not exist", "INVALID")
                )
                continue
            ids.append(customer_id)
    return list(dict.fromkeys(ids)), errors


def _dates(data: dict[str, Any], root: str) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    errors = []
    starts = ends = None
    try:
        starts = iso(iso_parse(data["startsAt"])) if data.get("startsAt") else None
        ends = iso(iso_parse(data["endsAt"])) if data.get("endsAt") else None
    except ValueError:
        errors.append(_error([root, "startsAt"], "Dates are invalid", "INVALID"))
    if starts and ends and iso_parse(ends) <= iso_parse(starts):
        errors.append(_error([root, "endsAt"], "Ends at needs to be after starts_at", "GREATER_THAN"))
    return starts, ends, errors


def _discount_create(  # noqa: PLR0912
    info: GraphQLResolveInfo,
    data: dict[str, Any],
    root: str,
    kind: str,
) -> dict[str, Any]:
    context = ctx(info)
    errors: list[dict[str, Any]] = []
    code = (data.get("code") or "").strip()
    if not code:
        errors.append(_error([root, "code"], "Code can't be blank", "BLANK"))
    if not (data.get("title") or "").strip():
        errors.append(_error([root, "title"], "Title can't be blank", "BLANK"))
    customer_ids, customer_errors = _customer_ids(info, data, root)
    errors.extend(customer_errors)
    starts, ends, date_errors = _dates(data, root)
    errors.extend(date_errors)
    value_type, value, each_item = "percentage", Decimal("0"), False
    if kind == "basic":
        gets = (data.get("customerGets") or {}).get("value") or {}
        if gets.get("percentage") is not None:
            value = Decimal(str(gets["percentage"]))
            if not Decimal("0") < value <= Decimal("1"):
                errors.append(
                    _error(
                        [root, "customerGets", "value", "percentage"],
                        "Value must be between 0.0 and 1.0",
                        "VALUE_OUTSIDE_RANGE",
                    )
                )
        elif gets.get("discountAmount"):
            value_type = "fixed_amount"
            try:
                value = Decimal(str(gets["discountAmount"].get("amount")))
            except InvalidOperation:
                value = Decimal("-1")
            each_item = bool(gets["discountAmount"].get("appliesOnEachItem"))
            if value <= 0:
                errors.append(
                    _error(
                        [root, "customerGets", "value", "discountAmount", "amount"],
                        "Value must be greater than 0",
                        "GREATER_THAN",
                    )
                )
        else:
            errors.append(_error([root, "customerGets"], "Customer gets value can't be blank", "BLANK"))
    minimum = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get(
        "greaterThanOrEqualToSubtotal"
    )
    if data.get("usageLimit") is not None and int(data["usageLimit"]) < 1:
        errors.append(_error([root, "usageLimit"], "Usage limit must be greater than 0", "GREATER_THAN"))
    if not errors and discounts.discount_get_by_code(context.ds.db, context.shop["id"], code):
        errors.append(_error([root, "code"], "Code must be unique. Please try a different code.", "TAKEN"))
    if errors:
        return {"codeDiscountNode": None, "userErrors": errors}
    try:
        row = discounts.discount_create(
            context.ds.db,
            context.shop["id"],
            kind=kind,
            title=data["title"],
            code=code,
            value_type=value_type,
            value=value,
            customer_ids=customer_ids,
            usage_limit=data.get("usageLimit"),
            applies_once_per_customer=bool(data.get("appliesOncePerCustomer")),
            starts_at=starts,
            ends_at=ends,
            applies_on_each_item=each_item,
            minimum_subtotal=str(minimum) if minimum is not None else None,
        )
    except sqlite3.IntegrityError:  # lost a race with the same code
        return {
            "codeDiscountNode": None,
            "userErrors": [
                _error([root, "code"], "Code must be unique. Please try a different code.", "TAKEN")
            ],
        }
    return {"codeDiscountNode": nodes.discount_node(row), "userErrors": []}


def _store_credit_credit(info: GraphQLResolveInfo, id: str, creditInput: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - GraphQL argument names
    """storeCreditAccountCredit with the account owner's (a customer's) id: the account is made
    on first credit, in the shop's currency."""
    context = ctx(info)
    shop = context.shop

    def refused(field: list[str], message: str, code: str) -> dict[str, Any]:
        return {"storeCreditAccountTransaction": None, "userErrors": [_error(field, message, code)]}

    try:
        customer_id = gid_parse(id, "Customer")
    except ValueError:
        return refused(["id"], "Owner does not exist", "OWNER_NOT_FOUND")
    if customers.customer_get(context.ds.db, shop["id"], customer_id) is None:
        return refused(["id"], "Owner does not exist", "OWNER_NOT_FOUND")
    money_in = creditInput["creditAmount"]
    try:
        amount = Decimal(str(money_in["amount"]))
    except InvalidOperation:
        amount = Decimal("0")
    if amount <= 0:
        return refused(
            ["creditInput", "creditAmount", "amount"], "Amount must be positive", "NEGATIVE_OR_ZERO_AMOUNT"
        )
    if money_in["currencyCode"] != shop["currency"]:
        return refused(
            ["creditInput", "creditAmount", "currencyCode"], "Currency mismatch", "MISMATCHING_CURRENCY"
        )
    expires = None
    if creditInput.get("expiresAt"):
        expires_at = iso_parse(creditInput["expiresAt"])
        if expires_at <= iso_parse(now_iso()):
            return refused(["creditInput", "expiresAt"], "Expiry must be in the future", "EXPIRES_AT_IN_PAST")
        expires = iso(expires_at)
    row = store_credit.store_credit_add(
        context.ds.db, shop["id"], customer_id, amount, currency=shop["currency"], expires_at=expires
    )
    balance = store_credit.store_credit_balance(context.ds.db, shop["id"], customer_id)
    currency = shop["currency"]
    return {
        "storeCreditAccountTransaction": {
            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{row['id']}",
            "account": {
                "id": f"gid://shopify/StoreCreditAccount/{customer_id}",
                "balance": {"amount": str(balance), "currencyCode": currency},
            },
            "amount": {"amount": row["amount"], "currencyCode": currency},
            "balanceAfterTransaction": {"amount": str(balance), "currencyCode": currency},
            "createdAt": row["created_at"],
            "expiresAt": row["expires_at"],
        },
        "userErrors": [],
    }


def _consent_update(info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    context = ctx(info)
    try:
        customer_id = gid_parse(input["customerId"], "Customer")
    except ValueError:
        customer_id = -1
    if customers.customer_get(context.ds.db, context.shop["id"], customer_id) is None:
        return {
            "customer": None,
            "userErrors": [_error(["input", "customerId"], "Customer not found", "INVALID")],
        }
    consent = input["emailMarketingConsent"]
    consent_at = consent.get("consentUpdatedAt")
    row = actions.customer_consent_update(
        context.ds,
        context.shop,
        customer_id,
        state=consent["marketingState"],
        opt_in_level=consent.get("marketingOptInLevel") or "SINGLE_OPT_IN",
        consent_updated_at=iso(iso_parse(consent_at)) if consent_at else None,
    )
    return {"customer": nodes.customer_node(row), "userErrors": []}


# Owners a metafield can be set on here, and the table each lives in.
OWNER_TABLES = {
    "Customer": "customers",
    "Product": "products",
    "Order": "orders",
    "ProductVariant": "variants",
    "Collection": "collections",
    "Shop": "shops",
}


def _metafield_owner(info: GraphQLResolveInfo, owner: str) -> tuple[str, int] | None:
    """(kind, id) of an existing owner of this shop, or None."""
    context = ctx(info)
    kind = owner.split("/")[3] if owner.count("/") >= 4 else ""
    table = OWNER_TABLES.get(kind)
    try:
        owner_id = gid_parse(owner)
    except ValueError:
        return None
    if table is None:
        return None
    if kind == "Shop":
        return (kind, owner_id) if owner_id == context.shop["id"] else None
    found = context.ds.db.one(
        f"SELECT 1 FROM {table} WHERE shop_id = ? AND id = ?",  # noqa: S608 - the table name is a code constant
        (context.shop["id"], owner_id),
    )
    return (kind, owner_id) if found else None


def _metafields_set(info: GraphQLResolveInfo, metafields: list[dict[str, Any]]) -> dict[str, Any]:
    context = ctx(info)
    config = context.ds.config
    errors: list[dict[str, Any]] = []
    if len(metafields) > 25:
        return {
            "metafields": None,
            "userErrors": [
                _error(
                    ["metafields"],
                    "Exceeded the maximum metafields input limit of 25.",
                    "LESS_THAN_OR_EQUAL_TO",
                )
            ],
        }
    parsed = []
    for index, item in enumerate(metafields):
        owner = _metafield_owner(info, str(item["ownerId"]))
        if owner is None:
            errors.append(
                _error(
                    ["metafields", str(index), "ownerId"],
                    "Owner does not exist.",
                    "INVALID",
                    elementIndex=index,
                )
            )
            continue
        kind, owner_id = owner
        namespace = metafields_rules.namespace_resolve(config, item.get("namespace"))
        if metafields_rules.namespace_forbidden(config, namespace):
            errors.append(
                _error(
                    ["metafields", str(index), "namespace"],
                    "Access to this namespace and key on Metafields for this resource type is not allowed.",
                    "APP_NOT_AUTHORIZED",
                    elementIndex=index,
                )
            )
            continue
        definition = metafields_rules.definition_find(config, kind, namespace, item["key"])
        # With a definition the type may be left out; without one devstore still takes text
        # (Shopify asks for the type then).
        type_ = item.get("type") or (definition.type if definition else "single_line_text_field")
        problem = metafields_rules.value_problem(type_, item["value"], definition)
        if problem is not None:
            errors.append(
                _error(
                    ["metafields", str(index), problem.field],
                    problem.message,
                    problem.code,
                    elementIndex=index,
                )
            )
            continue
        parsed.append((kind, owner_id, namespace, item["key"], item["value"], type_))
    if errors:  # metafieldsSet is atomic: one bad input and nothing is written
        return {"metafields": [], "userErrors": errors}
    rows = [
        customers.metafield_set(
            context.ds.db,
            context.shop["id"],
            owner_type=kind,
            owner_id=owner_id,
            namespace=namespace,
            key=key,
            value=value,
            type_=type_,
        )
        for kind, owner_id, namespace, key, value, type_ in parsed
    ]
    return {"metafields": [nodes.metafield_node(r) for r in rows], "userErrors": []}


def _tags_add(info: GraphQLResolveInfo, id: str, tags: list[str]) -> dict[str, Any]:
    context = ctx(info)
    try:
        kind = id.split("/")[3]
        object_id = gid_parse(id)
    except (IndexError, ValueError):
        return {"node": None, "userErrors": [_error(["id"], "Invalid id")]}
    table = {"Customer": "customers", "Order": "orders", "Product": "products"}.get(kind)
    row = (
        context.ds.db.one(
            f"SELECT * FROM {table} WHERE shop_id = ? AND id = ?",  # noqa: S608 - identifiers are code constants; values are bound parameters
            (context.shop["id"], object_id),
        )
        if table
        else None
    )
    if row is None or table is None:
        return {"node": None, "userErrors": [_error(["id"], "Resource not found")]}
    current = [t.strip() for t in row["tags"].split(",") if t.strip()]
    merged = list(dict.fromkeys(current + [t.strip() for t in tags if t.strip()]))
    if kind == "Customer":
        actions.customer_update(context.ds, context.shop, object_id, {"tags": merged})
    elif kind == "Order":
        actions.order_update(context.ds, context.shop, object_id, {"tags": ", ".join(merged)})
    else:
        context.ds.db.update(table, object_id, {"tags": ", ".join(merged)})
    return {"node": node_by_gid(info, id), "userErrors": []}


def _webhook_create(
    info: GraphQLResolveInfo,
    topic: str,
    webhookSubscription: dict[str, Any],  # noqa: N803
) -> dict[str, Any]:
    context = ctx(info)
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [_error(["webhookSubscription", "callbackUrl"], "Address can't be blank")],
        }
    if not uri.startswith(("http://", "https://")):
        return {
            "webhookSubscription": None,
            "userErrors": [_error(["webhookSubscription", "callbackUrl"], "Address is invalid")],
        }
    topic_name = webhooks.topic_from_enum(topic)
    existing = context.ds.db.one(
        "SELECT 1 FROM webhook_subscriptions WHERE shop_id = ? AND topic = ? AND uri = ?",
        (context.shop["id"], topic_name, uri),
    )
    if existing:
        return {
            "webhookSubscription": None,
            "userErrors": [
                _error(
                    ["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken"
                )
            ],
        }
    row = webhooks.subscription_create(
        context.ds.db, context.shop["id"], topic_name, uri, webhookSubscription.get("format") or "JSON"
    )
    return {
        "webhookSubscription": nodes.webhook_subscription_node(row, context.ds.config.api_version),
        "userErrors": [],
    }


def _webhook_delete(info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    context = ctx(info)
    try:
        subscription_id = gid_parse(id, "WebhookSubscription")
    except ValueError:
        subscription_id = -1
    if not webhooks.subscription_delete(context.ds.db, context.shop["id"], subscription_id):
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [_error(["id"], "Webhook subscription does not exist")],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def _bulk_run(info: GraphQLResolveInfo, query: str, groupObjects: bool = False) -> dict[str, Any]:  # noqa: N803
    # The JSONL is always ungrouped (`__parentId` lines), Shopify's default; an app that asks for
    # grouping is told so rather than handed a file in the other shape.
    if groupObjects:
        message = (
            "Grouped output (groupObjects: true) is not supported by devstore;"
            " without it, results are ungrouped JSONL with __parentId."
        )
        return {"bulkOperation": None, "userErrors": [_error(["groupObjects"], message, "INVALID")]}
    context = ctx(info)
    row, errors = bulk.bulk_operation_start(context.ds, context.shop, query)
    if errors:
        return {"bulkOperation": None, "userErrors": errors}
    assert row is not None
    return {"bulkOperation": nodes.bulk_operation_node(row, context.ds.config.public_url), "userErrors": []}


def _bulk_cancel(info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    context = ctx(info)
    row = bulk.bulk_operation_cancel(context.ds, context.shop, id)
    if row is None:
        return {"bulkOperation": None, "userErrors": [_error(["id"], "Bulk operation not found")]}
    return {"bulkOperation": nodes.bulk_operation_node(row, context.ds.config.public_url), "userErrors": []}


def _pixel_extension(info: GraphQLResolveInfo) -> web_pixels.PixelExtension | None:
    return web_pixels.pixel_extension_load(Path(ctx(info).ds.config.extensions_dir))


NO_PIXEL_EXTENSION = _error(None, "The app has no web pixel extension", "NO_EXTENSION")


def _web_pixel_create(info: GraphQLResolveInfo, webPixel: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - GraphQL argument names
    context = ctx(info)
    extension = _pixel_extension(info)
    if extension is None:
        return {"webPixel": None, "userErrors": [NO_PIXEL_EXTENSION]}
    settings, errors = web_pixels.pixel_settings_check(extension, webPixel.get("settings"))
    if errors:
        return {"webPixel": None, "userErrors": errors}
    row = web_pixels.web_pixel_create(context.ds.db, context.shop["id"], settings)
    if row is None:
        taken = _error(None, "The app's web pixel already exists on this shop", "TAKEN")
        return {"webPixel": None, "userErrors": [taken]}
    return {"webPixel": web_pixels.web_pixel_node(row), "userErrors": []}


def _web_pixel_update(info: GraphQLResolveInfo, id: str, webPixel: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - GraphQL argument names
    context = ctx(info)
    extension = _pixel_extension(info)
    if extension is None:
        return {"webPixel": None, "userErrors": [NO_PIXEL_EXTENSION]}
    settings, errors = web_pixels.pixel_settings_check(extension, webPixel.get("settings"))
    if errors:
        return {"webPixel": None, "userErrors": errors}
    try:
        pixel_id = gid_parse(id, "WebPixel")
    except ValueError:
        pixel_id = -1
    row = web_pixels.web_pixel_update(context.ds.db, context.shop["id"], pixel_id, settings)
    if row is None:
        return {"webPixel": None, "userErrors": [_error(["id"], "Web pixel not found", "NOT_FOUND")]}
    return {"webPixel": web_pixels.web_pixel_node(row), "userErrors": []}


def _web_pixel_delete(info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    context = ctx(info)
    try:
        pixel_id = gid_parse(id, "WebPixel")
    except ValueError:
        pixel_id = -1
    if not web_pixels.web_pixel_delete(context.ds.db, context.shop["id"], pixel_id):
        return {"deletedWebPixelId": None, "userErrors": [_error(["id"], "Web pixel not found", "NOT_FOUND")]}
    return {"deletedWebPixelId": id, "userErrors": []}


def mutation_root() -> dict[str, Any]:
    return {
        "discountCodeBasicCreate": lambda info, basicCodeDiscount: _discount_create(  # noqa: N803 - GraphQL argument names
            info, basicCodeDiscount, "basicCodeDiscount", "basic"
        ),
        "discountCodeFreeShippingCreate": lambda info, freeShippingCodeDiscount: (  # noqa: N803 - GraphQL argument names
            _discount_create(info, freeShippingCodeDiscount, "freeShippingCodeDiscount", "free_shipping")
        ),
        "storeCreditAccountCredit": _store_credit_credit,
        "customerEmailMarketingConsentUpdate": _consent_update,
        "metafieldsSet": _metafields_set,
        "tagsAdd": _tags_add,
        "webhookSubscriptionCreate": _webhook_create,
        "webhookSubscriptionDelete": _webhook_delete,
        "bulkOperationRunQuery": _bulk_run,
        "bulkOperationCancel": _bulk_cancel,
        "webPixelCreate": _web_pixel_create,
        "webPixelUpdate": _web_pixel_update,
        "webPixelDelete": _web_pixel_delete,
    }
