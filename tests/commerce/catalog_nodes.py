"""Admin GraphQL catalog nodes as Shopify answers them (the fields commerce.graphql_fields reads),
for the catalog's tests, and products stored from them."""

from typing import Any

from commerce.ingest import product_record_from_graphql, product_upsert
from shop_app.models import Shop

PRODUCT_GID = "gid://shopify/Product/6001"


def variant_node(
    number: int,
    size: str,
    color: str = "Navy",
    *,
    available: int | None = 5,
    updated_at: str = "2026-01-05T10:00:00Z",
    **changes: Any,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": f"gid://shopify/ProductVariant/{8000 + number}",
        "title": f"{size} / {color}",
        "position": number,
        "sku": f"CREW-{size}-{color.upper()}",
        "price": "98.00",
        "compareAtPrice": "129.00" if number == 1 else None,
        "inventoryQuantity": available,
        "updatedAt": updated_at,
        "selectedOptions": [{"name": "Size", "value": size}, {"name": "Color", "value": color}],
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{9000 + number}"},
    }
    node.update(changes)
    return node


def product_node(
    updated_at: str = "2026-01-05T10:00:00Z", *, variants: list[dict[str, Any]] | None = None, **changes: Any
) -> dict[str, Any]:
    """A product as the product(id) query and the bulk products query read it."""
    node: dict[str, Any] = {
        "id": PRODUCT_GID,
        "title": "Merino Crew",
        "handle": "merino-crew",
        "productType": "Knitwear",
        "vendor": "Omakase Knits",
        "tags": ["winter", "merino"],
        "status": "ACTIVE",
        "createdAt": "2026-01-01T09:00:00Z",
        "updatedAt": updated_at,
        "featuredMedia": {"preview": {"image": {"url": "https://cdn.example/merino-crew.jpg"}}},
        "variants": {
            "nodes": variants
            if variants is not None
            else [variant_node(1, "S", updated_at=updated_at), variant_node(2, "M", updated_at=updated_at)]
        },
    }
    node.update(changes)
    return node


def collection_node(
    updated_at: str = "2026-01-05T10:00:00Z", product_ids: tuple[int, ...] = (6001,), **changes: Any
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Collection/7001",
        "handle": "winter",
        "title": "Winter",
        "updatedAt": updated_at,
        "products": {"nodes": [{"id": f"gid://shopify/Product/{product_id}"} for product_id in product_ids]},
    }
    node.update(changes)
    return node


def given_product(
    shop: Shop, product_id: int, *variants: dict[str, Any], title: str | None = None, **changes: Any
) -> None:
    """Store a product as ingest stores Shopify's node: numbered `product_id`, with these variants
    (one size M variant if none), titled `title` with the handle Shopify derives from it if given,
    and `changes` to any other field of the node."""
    named = {} if title is None else {"title": title, "handle": title.lower().replace(" ", "-")}
    node = product_node(
        id=f"gid://shopify/Product/{product_id}",
        variants=list(variants) or [variant_node(product_id * 10, "M")],
        **named,
        **changes,
    )
    product_upsert(shop, product_record_from_graphql(node, "USD"))
