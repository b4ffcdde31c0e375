"""The control API under /_devstore/: drive the store from tests and the demo.

Each handler validates its JSON, calls one action and answers JSON. Shop: the body's
"shop" (a myshopify domain), else ?shop=, else the Host header, else the default shop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from devstore import actions, auth, catalog, customers, discounts, metafields, orders, payloads, webhooks
from devstore.context import Devstore
from devstore.db import Row
from devstore.orders import OrderLine, OrderRejected
from devstore.runtime import RuntimeSettings
from devstore.shops import shop_ensure, shop_get_by_domain, shop_list, shop_resolve
from devstore.signing import session_token_issue

Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    pass


def _shop(ds: Devstore, request: Request, body: dict[str, Any]) -> Row:
    named = body.get("shop") or request.query_params.get("shop")
    if named:
        shop = shop_get_by_domain(ds.db, str(named))
        if shop is None:
            raise LookupError(f"shop {named} not found")
        return shop
    return shop_resolve(ds.db, ds.config.default_shop, request.headers.get("host"))


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("body must be JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def endpoint(work: Callable[[Devstore, Request, dict[str, Any]], Any], status: int = 200) -> Handler:
    """Wrap a synchronous handler: parse JSON, run it off the event loop, map errors."""

    async def handle(request: Request) -> Response:
        ds: Devstore = request.app.state.ds
        try:
            body = await _body(request)
            result = await run_in_threadpool(work, ds, request, body)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (OrderRejected, ValueError, KeyError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=status)

    return handle


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value).rsplit("/", 1)[-1])
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name} must be an id") from exc


def _path_id(request: Request) -> int:
    return _int(request.path_params["id"], "id")


# ---------------------------------------------------------------- settings, shops, tokens


def settings_get(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    return ds.settings.as_json()


def settings_set(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    try:
        ds.settings.apply(body)
    except KeyError as exc:
        raise BadRequest(f"unknown setting {exc}") from exc
    if "bucket_size" in body or "restore_rate" in body:
        ds.buckets.reset()
    return ds.settings.as_json()


def reset(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    ds.db.wipe()
    fresh = RuntimeSettings()
    for setting in fields(RuntimeSettings):
        if setting.name != "lock":
            setattr(ds.settings, setting.name, getattr(fresh, setting.name))
    ds.buckets.reset()
    shop_ensure(ds.db, ds.config.default_shop)
    return {"ok": True}


def shops_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    return {"shops": shop_list(ds.db)}


def shops_create(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    domain = str(body.get("domain") or "")
    if not domain.endswith(".myshopify.com"):
        raise BadRequest("domain must be a *.myshopify.com domain")
    shop = shop_ensure(
        ds.db,
        domain,
        name=body.get("name"),
        currency=body.get("currency", "USD"),
        timezone=body.get("timezone", "America/New_York"),
        country_code=body.get("country_code", "US"),
    )
    return {"shop": shop}


def session_token(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    token = session_token_issue(
        shop_domain=shop["domain"],
        api_key=ds.config.api_key,
        api_secret=ds.config.api_secret,
        user_id=body.get("user_id", 1),
        ttl=int(body.get("ttl", ds.settings.session_token_ttl)),
    )
    return {"session_token": token, "shop": shop["domain"]}


def access_token(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    """Issue an offline token directly, for tests that do not exercise OAuth."""
    shop = _shop(ds, request, body)
    scopes = ds.config.app_toml.scopes
    auth.installation_install(ds.db, shop["id"], scopes)
    issued = auth.tokens_issue(
        ds.db, ds.settings, shop["id"], scopes, expiring=bool(body.get("expiring", False))
    )
    return {**issued.as_json(), "shop": shop["domain"]}


# ---------------------------------------------------------------- orders


def _lines(body: dict[str, Any]) -> list[OrderLine]:
    raw = body.get("lines")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("lines must be a non-empty list of {variant_id, quantity}")
    return [
        OrderLine(
            variant_id=_int(line.get("variant_id"), "variant_id"), quantity=int(line.get("quantity", 1))
        )
        for line in raw
    ]


def order_place(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    customer_id = body.get("customer_id")
    order = actions.order_place(
        ds,
        shop,
        lines=_lines(body),
        customer_id=_int(customer_id, "customer_id") if customer_id is not None else None,
        email=body.get("email"),
        discount_code=body.get("discount_code"),
        shipping_address=body.get("shipping_address"),
        financial_status=str(body.get("financial_status", "PAID")).upper(),
        note=body.get("note", ""),
    )
    return {"order": payloads.order_payload(ds.db, order, shop)}


def order_show(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    order = orders.order_get(ds.db, shop["id"], _path_id(request))
    if order is None:
        raise LookupError("order not found")
    return {"order": payloads.order_payload(ds.db, order, shop)}


def _order_action(action: Callable[..., Row], **fixed: Any) -> Callable[..., Any]:
    def work(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
        shop = _shop(ds, request, body)
        order = action(ds, shop, _path_id(request), **fixed)
        return {"order": payloads.order_payload(ds.db, order, shop)}

    return work


def order_update(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    order = actions.order_update(ds, shop, _path_id(request), body)
    return {"order": payloads.order_payload(ds.db, order, shop)}


def order_cancel(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    order = actions.order_cancel(
        ds,
        shop,
        _path_id(request),
        reason=str(body.get("reason", "CUSTOMER")),
        restock=bool(body.get("restock", True)),
    )
    return {"order": payloads.order_payload(ds.db, order, shop)}


def order_refund(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    lines = None
    if body.get("lines"):
        lines = [
            (_int(line["line_item_id"], "line_item_id"), int(line.get("quantity", 1)))
            for line in body["lines"]
        ]
    order_id = _path_id(request)
    refund = actions.order_refund(
        ds, shop, order_id, lines, restock=bool(body.get("restock", True)), note=body.get("note", "")
    )
    order = orders.order_get(ds.db, shop["id"], order_id)
    assert order is not None
    return {
        "refund": payloads.refund_payload(ds.db, refund, order),
        "order": payloads.order_payload(ds.db, order, shop),
    }


# ---------------------------------------------------------------- customers, stock

CUSTOMER_CREATE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "tags",
    "address",
    "marketing_state",
    "note",
)


def customer_create(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    fields = {k: body[k] for k in CUSTOMER_CREATE_FIELDS if k in body}
    fields.setdefault("email", None)
    customer = actions.customer_create(ds, shop, **fields)
    for metafield in body.get("metafields", []):
        customers.metafield_set(
            ds.db,
            shop["id"],
            owner_type="Customer",
            owner_id=customer["id"],
            namespace=metafields.namespace_resolve(ds.config, metafield.get("namespace")),
            key=metafield["key"],
            value=str(metafield["value"]),
            type_=metafield.get("type", "single_line_text_field"),
        )
    return {"customer": payloads.customer_payload(customer, shop)}


def customer_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    limit = int(request.query_params.get("limit", 50))
    return {
        "customers": [
            payloads.customer_payload(c, shop) for c in customers.customer_list(ds.db, shop["id"], limit)
        ]
    }


def customer_update(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    customer = actions.customer_update(ds, shop, _path_id(request), body)
    return {"customer": payloads.customer_payload(customer, shop)}


def customer_delete(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    actions.customer_delete(ds, shop, _path_id(request))
    return {"deleted": True}


def customer_consent(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    state = str(body.get("state", "")).upper()
    customer = actions.customer_consent_update(
        ds,
        shop,
        _path_id(request),
        state=state,
        opt_in_level=str(body.get("opt_in_level", "SINGLE_OPT_IN")).upper(),
    )
    return {"customer": payloads.customer_payload(customer, shop)}


def inventory_set(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    variant_id = _int(body.get("variant_id"), "variant_id")
    available = body.get("available")
    variant = actions.stock_set(
        ds,
        shop,
        variant_id,
        available=int(available) if available is not None else None,
        delta=int(body.get("delta", 0)),
    )
    return {"inventory_level": payloads.inventory_level_payload(variant)}


# ---------------------------------------------------------------- catalog


def product_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    limit = int(request.query_params.get("limit", 50))
    result = []
    for product in catalog.product_list(ds.db, shop["id"], limit):
        variants = catalog.product_variants(ds.db, product["id"])
        result.append(
            {
                "id": product["id"],
                "title": product["title"],
                "handle": product["handle"],
                "product_type": product["product_type"],
                "tags": product["tags"],
                "variants": [
                    {
                        "id": v["id"],
                        "title": v["title"],
                        "sku": v["sku"],
                        "price": v["price"],
                        "inventory_quantity": v["inventory_quantity"],
                        "options": json.loads(v["selected_options"]),
                    }
                    for v in variants
                ],
            }
        )
    return {"products": result}


def _selected_options(raw: Any) -> list[dict[str, str]]:
    """{"Size": "S"} or [{"name": "Size", "value": "S"}] -> Shopify's selectedOptions."""
    if isinstance(raw, dict):
        return [{"name": str(k), "value": str(v)} for k, v in raw.items()]
    if isinstance(raw, list) and all(isinstance(o, dict) and "name" in o and "value" in o for o in raw):
        return [{"name": str(o["name"]), "value": str(o["value"])} for o in raw]
    raise BadRequest("variant options must be {name: value} or [{name, value}]")


def _variants(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    raw = body.get("variants")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise BadRequest("variants must be a list of objects")
    variants = []
    for variant in raw:
        parsed = {k: variant[k] for k in catalog.VARIANT_CREATE_FIELDS if k in variant}
        if "id" in variant:
            parsed["id"] = _int(variant["id"], "variant id")
        if variant.get("options"):
            parsed["options"] = _selected_options(variant["options"])
        variants.append(parsed)
    return variants


def _product_ids(body: dict[str, Any]) -> list[int]:
    raw = body.get("product_ids", [])
    if not isinstance(raw, list):
        raise BadRequest("product_ids must be a list of product ids")
    return [_int(value, "product_ids") for value in raw]


def _product_json(ds: Devstore, product: Row) -> dict[str, Any]:
    return {"product": payloads.product_payload(ds.db, product)}


def _collection_json(ds: Devstore, collection: Row) -> dict[str, Any]:
    """The collections/update payload plus the member product ids, which the webhook leaves out."""
    return {
        **payloads.collection_payload(collection),
        "product_ids": catalog.collection_product_ids(ds.db, collection["id"]),
    }


def product_create(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    if not isinstance(body.get("title"), str):
        raise BadRequest("title is required")
    fields = {k: body[k] for k in catalog.PRODUCT_CREATE_FIELDS if k in body}
    if "options" in body:
        if not isinstance(body["options"], list):
            raise BadRequest("options must be a list of option names")
        fields["options"] = [str(name) for name in body["options"]]
    product = actions.product_create(ds, shop, variants=_variants(body), **fields)
    return _product_json(ds, product)


def product_show(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    product = catalog.product_get(ds.db, shop["id"], _path_id(request))
    if product is None:
        raise LookupError("product not found")
    return _product_json(ds, product)


def product_update(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    changes = {k: body[k] for k in catalog.PRODUCT_FIELDS if k in body}
    variants = _variants(body) or []
    if any("id" not in v for v in variants):
        raise BadRequest("each variant to change needs its id")
    if any("inventory_quantity" in v or "options" in v for v in variants):
        raise BadRequest(
            "a variant's price, compare_at_price or sku can change here; stock through /inventory"
        )
    product = actions.product_update(ds, shop, _path_id(request), changes, variants)
    return _product_json(ds, product)


def product_delete(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    actions.product_delete(ds, shop, _path_id(request))
    return {"deleted": True}


def collection_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    return {"collections": [_collection_json(ds, c) for c in catalog.collection_list(ds.db, shop["id"])]}


def collection_create(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    if not isinstance(body.get("title"), str):
        raise BadRequest("title is required")
    fields = {k: body[k] for k in catalog.COLLECTION_CREATE_FIELDS if k in body}
    collection = actions.collection_create(ds, shop, product_ids=_product_ids(body), **fields)
    return {"collection": _collection_json(ds, collection)}


def collection_show(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    collection = catalog.collection_get(ds.db, shop["id"], _path_id(request))
    if collection is None:
        raise LookupError("collection not found")
    return {"collection": _collection_json(ds, collection)}


def collection_update(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    changes = {k: body[k] for k in catalog.COLLECTION_FIELDS if k in body}
    collection = actions.collection_update(ds, shop, _path_id(request), changes)
    return {"collection": _collection_json(ds, collection)}


def collection_delete(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    actions.collection_delete(ds, shop, _path_id(request))
    return {"deleted": True}


def _membership(action: Callable[[Devstore, Row, int, list[int]], Row]) -> Callable[..., Any]:
    def work(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
        shop = _shop(ds, request, body)
        product_ids = _product_ids(body)
        if not product_ids:
            raise BadRequest("product_ids must name at least one product")
        collection = action(ds, shop, _path_id(request), product_ids)
        return {"collection": _collection_json(ds, collection)}

    return work


# ---------------------------------------------------------------- discounts


def discount_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    rows = discounts.discount_list(ds.db, shop["id"])
    for row in rows:
        row["customer_ids"] = discounts.discount_customer_ids(row)
    return {"discounts": rows}


# ---------------------------------------------------------------- app, privacy, webhooks


def uninstall(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    actions.app_uninstall(ds, shop)
    return {"uninstalled": shop["domain"]}


def privacy(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    shop = _shop(ds, request, body)
    topic = str(body.get("topic", ""))
    customer_id = body.get("customer_id")
    actions.privacy_send(
        ds, shop, topic, _int(customer_id, "customer_id") if customer_id is not None else None
    )
    return {"sent": topic}


def delivery_list(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    params = request.query_params
    shop_id = None
    if params.get("shop"):
        shop_id = _shop(ds, request, body)["id"]
    return {
        "deliveries": webhooks.delivery_list(
            ds.db,
            shop_id=shop_id,
            topic=params.get("topic"),
            status=params.get("status"),
            limit=int(params.get("limit", 200)),
        )
    }


def deliveries_wait(ds: Devstore, request: Request, body: dict[str, Any]) -> Any:
    left = ds.webhooks.wait_idle(float(body.get("timeout", 10)))
    return {"pending": left}


async def bulk_result(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    row = ds.db.one("SELECT result, status FROM bulk_operations WHERE id = ?", (_path_id(request),))
    if row is None or row["status"] != "COMPLETED":
        return PlainTextResponse("Not Found", status_code=404)
    return Response(row["result"] or "", media_type="application/jsonl")


def routes() -> list[Route]:
    p = "/_devstore"
    return [
        Route(f"{p}/health", endpoint(lambda ds, r, b: {"ok": True}), methods=["GET"]),
        Route(f"{p}/settings", endpoint(settings_get), methods=["GET"]),
        Route(f"{p}/settings", endpoint(settings_set), methods=["POST"]),
        Route(f"{p}/reset", endpoint(reset), methods=["POST"]),
        Route(f"{p}/shops", endpoint(shops_list), methods=["GET"]),
        Route(f"{p}/shops", endpoint(shops_create, 201), methods=["POST"]),
        Route(f"{p}/session-token", endpoint(session_token), methods=["POST"]),
        Route(f"{p}/access-token", endpoint(access_token), methods=["POST"]),
        Route(f"{p}/products", endpoint(product_list), methods=["GET"]),
        Route(f"{p}/products", endpoint(product_create, 201), methods=["POST"]),
        Route(f"{p}/products/{{id}}", endpoint(product_show), methods=["GET"]),
        Route(f"{p}/products/{{id}}", endpoint(product_update), methods=["POST"]),
        Route(f"{p}/products/{{id}}", endpoint(product_delete), methods=["DELETE"]),
        Route(f"{p}/collections", endpoint(collection_list), methods=["GET"]),
        Route(f"{p}/collections", endpoint(collection_create, 201), methods=["POST"]),
        Route(f"{p}/collections/{{id}}", endpoint(collection_show), methods=["GET"]),
        Route(f"{p}/collections/{{id}}", endpoint(collection_update), methods=["POST"]),
        Route(f"{p}/collections/{{id}}", endpoint(collection_delete), methods=["DELETE"]),
        Route(
            f"{p}/collections/{{id}}/add",
            endpoint(_membership(actions.collection_products_add)),
            methods=["POST"],
        ),
        Route(
            f"{p}/collections/{{id}}/remove",
            endpoint(_membership(actions.collection_products_remove)),
            methods=["POST"],
        ),
        Route(f"{p}/orders", endpoint(order_place, 201), methods=["POST"]),
        Route(f"{p}/orders/{{id}}", endpoint(order_show), methods=["GET"]),
        Route(f"{p}/orders/{{id}}/update", endpoint(order_update), methods=["POST"]),
        Route(f"{p}/orders/{{id}}/pay", endpoint(_order_action(actions.order_mark_paid)), methods=["POST"]),
        Route(f"{p}/orders/{{id}}/cancel", endpoint(order_cancel), methods=["POST"]),
        Route(f"{p}/orders/{{id}}/fulfill", endpoint(_order_action(actions.order_fulfill)), methods=["POST"]),
        Route(f"{p}/orders/{{id}}/refund", endpoint(order_refund, 201), methods=["POST"]),
        Route(f"{p}/customers", endpoint(customer_list), methods=["GET"]),
        Route(f"{p}/customers", endpoint(customer_create, 201), methods=["POST"]),
        Route(f"{p}/customers/{{id}}", endpoint(customer_update), methods=["POST"]),
        Route(f"{p}/customers/{{id}}", endpoint(customer_delete), methods=["DELETE"]),
        Route(f"{p}/customers/{{id}}/consent", endpoint(customer_consent), methods=["POST"]),
        Route(f"{p}/inventory", endpoint(inventory_set), methods=["POST"]),
        Route(f"{p}/discounts", endpoint(discount_list), methods=["GET"]),
        Route(f"{p}/uninstall", endpoint(uninstall), methods=["POST"]),
        Route(f"{p}/privacy", endpoint(privacy), methods=["POST"]),
        Route(f"{p}/webhooks/deliveries", endpoint(delivery_list), methods=["GET"]),
        Route(f"{p}/webhooks/wait", endpoint(deliveries_wait), methods=["POST"]),
        Route(f"{p}/bulk/{{id}}.jsonl", bulk_result, methods=["GET"]),
    ]
