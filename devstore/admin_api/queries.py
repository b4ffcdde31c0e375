"""QueryRoot: the top-level fields, as a root value of resolvers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from devstore import auth, catalog, customers, discounts, orders, web_pixels
from devstore.admin_api import nodes, themes
from devstore.admin_api.connections import (
    SearchField,
    SqlFilter,
    list_connection,
    search_filter,
    sql_connection,
)
from devstore.admin_api.nodes import ctx
from devstore.db import Row
from devstore.formats import gid_parse, iso
from devstore.webhooks import subscription_list, topic_from_enum

ORDER_SORT = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "PROCESSED_AT": "processed_at",
    "ID": "id",
    "RELEVANCE": "id",
    "ORDER_NUMBER": "number",
    "TOTAL_PRICE": "CAST(total_price AS REAL)",
    "FINANCIAL_STATUS": "financial_status",
    "FULFILLMENT_STATUS": "fulfillment_status",
    "CUSTOMER_NAME": "COALESCE(email, '')",
}
ORDER_SEARCH = {
    "created_at": SearchField("created_at", "date"),
    "updated_at": SearchField("updated_at", "date"),
    "processed_at": SearchField("processed_at", "date"),
    "email": SearchField("email"),
    "name": SearchField("name"),
    "financial_status": SearchField("financial_status", "enum"),
    "fulfillment_status": SearchField("fulfillment_status", "enum"),
    "customer_id": SearchField("customer_id", "id"),
    "id": SearchField("id", "id"),
    "tag": SearchField("tags", "tags"),
}
CUSTOMER_SORT = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "ID": "id",
    "RELEVANCE": "id",
    "NAME": "(last_name || ' ' || first_name)",
    "LOCATION": "json_extract(address, '$.country')",
}
CUSTOMER_SEARCH = {
    "created_at": SearchField("created_at", "date"),
    "updated_at": SearchField("updated_at", "date"),
    "email": SearchField("email"),
    "first_name": SearchField("first_name"),
    "last_name": SearchField("last_name"),
    "phone": SearchField("phone"),
    "tag": SearchField("tags", "tags"),
    "state": SearchField("state", "enum"),
    "country": SearchField("json_extract(address, '$.country')"),
    "orders_count": SearchField("orders_count", "number"),
    "total_spent": SearchField("amount_spent", "number"),
    "email_marketing_state": SearchField("marketing_state", "enum"),
    "id": SearchField("id", "id"),
}
PRODUCT_SORT = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "ID": "id",
    "RELEVANCE": "id",
    "TITLE": "title",
    "PRODUCT_TYPE": "product_type",
    "VENDOR": "vendor",
    "PUBLISHED_AT": "created_at",
    "INVENTORY_TOTAL": "(SELECT COALESCE(SUM(inventory_quantity), 0) FROM variants v"
    " WHERE v.product_id = products.id)",
}
PRODUCT_SEARCH = {
    "title": SearchField("title"),
    "handle": SearchField("handle"),
    "product_type": SearchField("product_type"),
    "vendor": SearchField("vendor"),
    "tag": SearchField("tags", "tags"),
    "status": SearchField("status", "enum"),
    "created_at": SearchField("created_at", "date"),
    "updated_at": SearchField("updated_at", "date"),
    "id": SearchField("id", "id"),
}
VARIANT_SORT = {
    "ID": "id",
    "RELEVANCE": "id",
    "POSITION": "position",
    "SKU": "sku",
    "TITLE": "title",
    "NAME": "title",
    "INVENTORY_QUANTITY": "inventory_quantity",
}
VARIANT_SEARCH = {
    "sku": SearchField("sku"),
    "title": SearchField("title"),
    "product_id": SearchField("product_id", "id"),
    "id": SearchField("id", "id"),
    "inventory_quantity": SearchField("inventory_quantity", "number"),
    "updated_at": SearchField("updated_at", "date"),
}
COLLECTION_SORT = {"ID": "id", "RELEVANCE": "id", "TITLE": "title", "UPDATED_AT": "updated_at"}
COLLECTION_SEARCH = {
    "title": SearchField("title"),
    "handle": SearchField("handle"),
    "updated_at": SearchField("updated_at", "date"),
    "published_at": SearchField("published_at", "date"),
    "id": SearchField("id", "id"),
}


# Without read_all_orders an app sees only the orders created in the last 60 days.
ORDER_WINDOW = timedelta(days=60)


def orders_visible_since(info: GraphQLResolveInfo) -> str | None:
    """The oldest created_at this app may see, or None with read_all_orders."""
    context = ctx(info)
    scopes = auth.installation_scopes(context.ds.db, context.shop["id"], context.ds.config.app_toml.scopes)
    if "read_all_orders" in scopes:
        return None
    return iso(datetime.now(UTC) - ORDER_WINDOW)


def _orders_window(info: GraphQLResolveInfo) -> SqlFilter:
    window = SqlFilter()
    since = orders_visible_since(info)
    if since is not None:
        window.add("created_at >= ?", since)
    return window


def order_visible(info: GraphQLResolveInfo, row: Row | None) -> Row | None:
    since = orders_visible_since(info)
    if row is None or (since is not None and row["created_at"] < since):
        return None
    return row


def _connection(  # noqa: PLR0917
    info: GraphQLResolveInfo,
    table: str,
    sort_map: dict[str, str],
    search: dict[str, SearchField],
    text: tuple[str, ...],
    build: Any,
    args: dict[str, Any],
    extra: tuple[str, Any] | None = None,
    sort_default: str = "ID",
    limit: SqlFilter | None = None,
) -> dict[str, Any]:
    """A connection over `table` for this shop; `limit` narrows what the app may see at all."""
    context = ctx(info)
    limit = limit or SqlFilter()
    where = SqlFilter(["shop_id = ?", *limit.clauses], [context.shop["id"], *limit.params])
    if extra is not None:
        where.add(extra[0], extra[1])
    search_filter(args.get("query"), search, text, where)
    sort_expr = sort_map.get(args.get("sortKey") or sort_default, "id")
    return sql_connection(
        context.ds.db,
        table=table,
        where=where,
        sort_expr=sort_expr,
        args=args,
        build=build,
        bulk=context.bulk,
    )


def orders_connection(
    info: GraphQLResolveInfo, extra: tuple[str, Any] | None = None, **args: Any
) -> dict[str, Any]:
    return _connection(
        info,
        "orders",
        ORDER_SORT,
        ORDER_SEARCH,
        ("name", "email"),
        nodes.order_node,
        args,
        extra,
        sort_default="PROCESSED_AT",
        limit=_orders_window(info),
    )


def _count(
    info: GraphQLResolveInfo,
    table: str,
    search: dict[str, SearchField],
    text: tuple[str, ...],
    query: str | None,
    *,
    limit: SqlFilter | None = None,
) -> dict[str, Any]:
    context = ctx(info)
    limit = limit or SqlFilter()
    where = SqlFilter(["shop_id = ?", *limit.clauses], [context.shop["id"], *limit.params])
    search_filter(query, search, text, where)
    total = context.ds.db.scalar(
        f"SELECT COUNT(*) FROM {table} WHERE {where.sql()}",  # noqa: S608 - identifiers are code constants; values are bound parameters
        where.params,
    )
    return nodes.count(int(total or 0))


def node_by_gid(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: PLR0911 - one return per case reads plainest
    """node(id:): dispatch on the gid's type."""
    context = ctx(info)
    shop_id = context.shop["id"]
    db = context.ds.db
    try:
        kind = id.split("/")[3]
        object_id = gid_parse(id)
    except (IndexError, ValueError):
        raise GraphQLError(f"Invalid global id '{id}'") from None
    row: Row | None
    if kind == "Product":
        row = catalog.product_get(db, shop_id, object_id)
        return nodes.product_node(row) if row else None
    if kind == "ProductVariant":
        row = catalog.variant_get(db, shop_id, object_id)
        return nodes.variant_node(row) if row else None
    if kind == "Collection":
        row = catalog.collection_get(db, shop_id, object_id)
        return nodes.collection_node(row) if row else None
    if kind == "Customer":
        row = customers.customer_get(db, shop_id, object_id)
        return nodes.customer_node(row) if row else None
    if kind == "Order":
        row = order_visible(info, orders.order_get(db, shop_id, object_id))
        return nodes.order_node(row) if row else None
    if kind in ("DiscountCodeNode", "DiscountNode"):
        row = discounts.discount_get(db, shop_id, object_id)
        return nodes.discount_node(row) if row else None
    if kind == "BulkOperation":
        row = db.one("SELECT * FROM bulk_operations WHERE shop_id = ? AND id = ?", (shop_id, object_id))
        return nodes.bulk_operation_node(row, context.ds.config.public_url) if row else None
    if kind == "WebhookSubscription":
        row = db.one("SELECT * FROM webhook_subscriptions WHERE shop_id = ? AND id = ?", (shop_id, object_id))
        return nodes.webhook_subscription_node(row, context.ds.config.api_version) if row else None
    if kind == "OnlineStoreTheme":
        return themes.theme_by_id(info, id)
    if kind == "Shop" and object_id == shop_id:
        return nodes.shop_node(context.shop)
    return None


def _by_id(kind: str, loader: Any, builder: Any, visible: Any = lambda info, row: row) -> Any:
    def resolve(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        try:
            object_id = gid_parse(id, kind)
        except ValueError:
            raise GraphQLError(f"Invalid id: {id}") from None
        context = ctx(info)
        row = visible(info, loader(context.ds.db, context.shop["id"], object_id))
        return builder(row) if row else None

    return resolve


def _orders_count(info: GraphQLResolveInfo, query: str | None = None) -> dict[str, Any]:
    return _count(info, "orders", ORDER_SEARCH, ("name", "email"), query, limit=_orders_window(info))


def _webhook_subscriptions(
    info: GraphQLResolveInfo,
    topics: list[str] | None = None,
    callbackUrl: str | None = None,  # noqa: N803
    uri: str | None = None,
    **args: Any,
) -> dict[str, Any]:
    context = ctx(info)
    rows = subscription_list(context.ds.db, context.shop["id"])
    if topics:
        wanted = {topic_from_enum(t) for t in topics}
        rows = [r for r in rows if r["topic"] in wanted]
    target = uri or callbackUrl
    if target:
        rows = [r for r in rows if r["uri"] == target]
    version = context.ds.config.api_version
    args.pop("format", None)
    return list_connection(
        rows, args, lambda r: nodes.webhook_subscription_node(r, version), bulk=context.bulk
    )


def _current_bulk_operation(info: GraphQLResolveInfo, type: str = "QUERY") -> Any:
    context = ctx(info)
    if type != "QUERY":
        return None
    row = context.ds.db.one(
        "SELECT * FROM bulk_operations WHERE shop_id = ? ORDER BY id DESC LIMIT 1", (context.shop["id"],)
    )
    return nodes.bulk_operation_node(row, context.ds.config.public_url) if row else None


def _discount_by_code(info: GraphQLResolveInfo, code: str) -> dict[str, Any] | None:
    context = ctx(info)
    row = discounts.discount_get_by_code(context.ds.db, context.shop["id"], code)
    return nodes.discount_node(row) if row else None


def _product_by_handle(info: GraphQLResolveInfo, handle: str) -> dict[str, Any] | None:
    row = catalog.product_get_by_handle(ctx(info).ds.db, ctx(info).shop["id"], handle)
    return nodes.product_node(row) if row else None


def _collection_by_handle(info: GraphQLResolveInfo, handle: str) -> dict[str, Any] | None:
    row = catalog.collection_get_by_handle(ctx(info).ds.db, ctx(info).shop["id"], handle)
    return nodes.collection_node(row) if row else None


def _web_pixel(info: GraphQLResolveInfo, id: str | None = None) -> dict[str, Any] | None:
    """The app's web pixel on the shop (by its id, or without one, as Shopify allows)."""
    context = ctx(info)
    row = web_pixels.web_pixel_get(context.ds.db, context.shop["id"])
    if row is None or (id is not None and f"gid://shopify/WebPixel/{row['id']}" != id):
        return None
    return web_pixels.web_pixel_node(row)


def query_root() -> dict[str, Any]:
    return {
        "shop": lambda info: nodes.shop_node(ctx(info).shop),
        "node": node_by_gid,
        "nodes": lambda info, ids: [node_by_gid(info, i) for i in ids],
        "product": _by_id("Product", catalog.product_get, nodes.product_node),
        "productByHandle": _product_by_handle,
        "products": lambda info, **args: _connection(
            info,
            "products",
            PRODUCT_SORT,
            PRODUCT_SEARCH,
            ("title", "tags", "product_type"),
            nodes.product_node,
            args,
        ),
        "productsCount": lambda info, query=None: _count(info, "products", PRODUCT_SEARCH, ("title",), query),
        "productVariant": _by_id("ProductVariant", catalog.variant_get, nodes.variant_node),
        "productVariants": lambda info, **args: _connection(
            info, "variants", VARIANT_SORT, VARIANT_SEARCH, ("title", "sku"), nodes.variant_node, args
        ),
        "collection": _by_id("Collection", catalog.collection_get, nodes.collection_node),
        "collectionByHandle": _collection_by_handle,
        "collections": lambda info, **args: _connection(
            info, "collections", COLLECTION_SORT, COLLECTION_SEARCH, ("title",), nodes.collection_node, args
        ),
        "customer": _by_id("Customer", customers.customer_get, nodes.customer_node),
        "customers": lambda info, **args: _connection(
            info,
            "customers",
            CUSTOMER_SORT,
            CUSTOMER_SEARCH,
            ("email", "first_name", "last_name"),
            nodes.customer_node,
            args,
        ),
        "customersCount": lambda info, query=None: _count(
            info, "customers", CUSTOMER_SEARCH, ("email",), query
        ),
        "order": _by_id("Order", orders.order_get, nodes.order_node, order_visible),
        "orders": orders_connection,
        "ordersCount": _orders_count,
        "codeDiscountNode": _by_id("DiscountCodeNode", discounts.discount_get, nodes.discount_node),
        "codeDiscountNodeByCode": _discount_by_code,
        "webhookSubscription": node_by_gid,
        "webhookSubscriptions": _webhook_subscriptions,
        "currentBulkOperation": _current_bulk_operation,
        "bulkOperation": node_by_gid,
        "webPixel": _web_pixel,
        "theme": themes.theme_by_id,
        "themes": themes.themes_connection,
    }
