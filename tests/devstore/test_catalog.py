"""The catalog through the control API: products, variants with stock, custom collections.

Each change is announced as Shopify announces it (products/create|update|delete,
collections/create|update|delete, inventory_levels/update), signed, with Shopify's bodies: the
keys of each body are those of Shopify's published sample (fixtures/webhooks/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from devstore import catalog
from devstore.context import Devstore
from devstore.db import Database, Row
from tests.devstore.conftest import API_SECRET, OTHER_SHOP, SHOP, Receiver

SAMPLES = Path(__file__).parent / "fixtures" / "webhooks"


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return loaded


def _delivered(client: TestClient, receiver: Receiver, topic: str) -> list[dict[str, Any]]:
    """Every body of `topic` the app received, each checked against its HMAC first."""
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})
    bodies = []
    for request in receiver.requests:
        if request.headers["X-Shopify-Topic"] != topic:
            continue
        digest = hmac.new(API_SECRET.encode(), request.body, hashlib.sha256).digest()
        assert request.headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
        assert request.headers["X-Shopify-Shop-Domain"] == SHOP
        bodies.append(request.json())
    return bodies


SHIRT = {
    "title": "Linen Camp Shirt",
    "description": "Breezy linen.",
    "product_type": "Shirts",
    "vendor": "Omakase Supply",
    "tags": ["linen", "summer"],
    "image_url": "https://cdn.example.com/shirt.jpg",
    "variants": [
        {
            "price": "60",
            "compare_at_price": "75.00",
            "sku": "LCS-S",
            "inventory_quantity": 5,
            "options": {"Size": "S"},
        },
        {"price": "60", "sku": "LCS-M", "inventory_quantity": 0, "options": {"Size": "M"}},
    ],
}


def _create(client: TestClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/_devstore/products", json=body or SHIRT)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()["product"]
    return product


def test_a_new_product_is_announced_with_shopifys_products_create_body(
    client: TestClient, receiver: Receiver
) -> None:
    # When the merchant adds a product with two sizes in stock
    product = _create(client)

    # Then the app hears products/create, signed, with Shopify's keys and spellings
    [body] = _delivered(client, receiver, "products/create")
    assert body == product
    sample = _sample("products_update")
    assert set(body) == set(sample)
    assert all(set(v) == set(sample["variants"][0]) for v in body["variants"])
    assert body["admin_graphql_api_id"] == f"gid://shopify/Product/{body['id']}"
    assert body["handle"] == "linen-camp-shirt"
    assert body["status"] == "active"
    assert body["tags"] == "linen, summer"
    assert body["body_html"] == "<p>Breezy linen.</p>"
    assert body["options"] == [
        {
            "id": body["options"][0]["id"],
            "product_id": body["id"],
            "name": "Size",
            "position": 1,
            "values": ["S", "M"],
        }
    ]
    small, medium = body["variants"]
    assert {
        k: small[k] for k in ("product_id", "price", "compare_at_price", "sku", "option1", "option2")
    } == {
        "product_id": body["id"],
        "price": "60.00",
        "compare_at_price": "75.00",
        "sku": "LCS-S",
        "option1": "S",
        "option2": None,
    }
    assert (small["inventory_item_id"], small["inventory_quantity"]) == (small["id"], 5)
    assert (medium["compare_at_price"], medium["inventory_quantity"]) == (None, 0)
    assert body["image"]["src"] == "https://cdn.example.com/shirt.jpg"
    assert [i["src"] for i in body["images"]] == ["https://cdn.example.com/shirt.jpg"]


def test_a_product_without_options_gets_one_default_variant(client: TestClient) -> None:
    product = _create(client, {"title": "Gift Card", "variants": [{"price": "25", "inventory_quantity": 3}]})

    [variant] = product["variants"]
    assert (variant["title"], variant["option1"], variant["price"]) == (
        "Default Title",
        "Default Title",
        "25.00",
    )
    assert product["options"][0]["name"] == "Title"


def test_editing_a_product_and_a_variant_price_is_one_products_update(
    client: TestClient, receiver: Receiver, ds: Devstore, product: Row, variant_ids: list[int]
) -> None:
    # Given a product last changed long ago
    ds.db.execute("UPDATE products SET updated_at = '2024-01-01T00:00:00Z' WHERE id = ?", (product["id"],))

    # When the merchant retitles it, retags it, drafts it and reprices one size
    response = client.post(
        f"/_devstore/products/{product['id']}",
        json={
            "title": "Linen Shirt",
            "tags": "linen, sale",
            "product_type": "Tops",
            "status": "DRAFT",
            "variants": [{"id": variant_ids[1], "price": "45.5", "compare_at_price": "60.00"}],
        },
    )

    # Then the answer and the one products/update both carry every change
    assert response.status_code == 200, response.text
    [body] = _delivered(client, receiver, "products/update")
    assert body == response.json()["product"]
    assert (body["title"], body["tags"], body["product_type"], body["status"]) == (
        "Linen Shirt",
        "linen, sale",
        "Tops",
        "draft",
    )
    assert body["handle"] == "linen-camp-shirt"
    assert body["updated_at"] > "2024-01-01T00:00:00Z"
    prices = {v["id"]: (v["price"], v["compare_at_price"]) for v in body["variants"]}
    assert prices == {
        variant_ids[0]: ("60.00", None),
        variant_ids[1]: ("45.50", "60.00"),
        variant_ids[2]: ("60.00", None),
    }
    assert receiver.topics() == ["products/update"]


def test_a_deleted_product_is_announced_by_its_id_alone(
    client: TestClient, receiver: Receiver, product: Row
) -> None:
    # Given the product is in a collection
    created = client.post("/_devstore/collections", json={"title": "Shirts", "product_ids": [product["id"]]})
    collection_id = created.json()["collection"]["id"]

    # When the merchant deletes the product
    response = client.delete(f"/_devstore/products/{product['id']}")

    # Then products/delete carries only its id, and it is gone from the store and the collection
    assert response.json() == {"deleted": True}
    assert _delivered(client, receiver, "products/delete") == [{"id": product["id"]}]
    assert client.get(f"/_devstore/products/{product['id']}").status_code == 404
    assert client.get(f"/_devstore/collections/{collection_id}").json()["collection"]["product_ids"] == []


def test_a_collection_is_announced_when_made_changed_filled_emptied_and_deleted(
    client: TestClient, receiver: Receiver, product: Row
) -> None:
    other = _create(client)

    # When the merchant makes a collection with one product, renames it, adds and removes products
    made = client.post(
        "/_devstore/collections",
        json={"title": "Summer Edit", "description": "Light layers.", "product_ids": [product["id"]]},
    )
    collection = made.json()["collection"]
    renamed = client.post(f"/_devstore/collections/{collection['id']}", json={"title": "Summer 26"})
    added = client.post(f"/_devstore/collections/{collection['id']}/add", json={"product_ids": [other["id"]]})
    removed = client.post(
        f"/_devstore/collections/{collection['id']}/remove", json={"product_ids": [product["id"]]}
    )
    deleted = client.delete(f"/_devstore/collections/{collection['id']}")

    # Then each step answered as asked, and the app heard create, three updates, delete
    assert made.status_code == 201
    assert collection["product_ids"] == [product["id"]]
    assert renamed.json()["collection"]["title"] == "Summer 26"
    assert added.json()["collection"]["product_ids"] == [product["id"], other["id"]]
    assert removed.json()["collection"]["product_ids"] == [other["id"]]
    assert deleted.json() == {"deleted": True}
    [create] = _delivered(client, receiver, "collections/create")
    sample = _sample("collections_update")
    assert set(create) == set(sample)
    assert {k: create[k] for k in ("handle", "title", "body_html", "sort_order", "published_scope")} == {
        "handle": "summer-edit",
        "title": "Summer Edit",
        "body_html": "<p>Light layers.</p>",
        "sort_order": "manual",
        "published_scope": "web",
    }
    assert create["admin_graphql_api_id"] == f"gid://shopify/Collection/{collection['id']}"
    updates = _delivered(client, receiver, "collections/update")
    assert [u["title"] for u in updates] == ["Summer 26"] * 3
    assert all(set(u) == set(sample) for u in updates)
    [gone] = _delivered(client, receiver, "collections/delete")
    assert gone == {
        "id": collection["id"],
        "published_scope": "web",
        "admin_graphql_api_id": f"gid://shopify/Collection/{collection['id']}",
    }
    assert set(gone) == set(_sample("collections_delete"))
    assert "products/update" not in receiver.topics()


def test_a_stock_change_is_announced_as_shopifys_inventory_levels_update(
    client: TestClient, receiver: Receiver, variant_ids: list[int]
) -> None:
    client.post("/_devstore/inventory", json={"variant_id": variant_ids[1], "available": 9})

    [body] = _delivered(client, receiver, "inventory_levels/update")

    assert set(body) == set(_sample("inventory_levels_update"))
    assert (body["inventory_item_id"], body["location_id"], body["available"]) == (variant_ids[1], 1, 9)
    assert (
        body["admin_graphql_api_id"] == f"gid://shopify/InventoryLevel/1?inventory_item_id={variant_ids[1]}"
    )


def test_bad_catalog_changes_are_refused_and_announce_nothing(
    client: TestClient, receiver: Receiver, product: Row, variant_ids: list[int]
) -> None:
    missing = 999_999
    answers = [
        client.post("/_devstore/products", json={"variants": [{"price": "1"}]}).status_code,
        client.post("/_devstore/products", json={"title": "X", "status": "hidden"}).status_code,
        client.post("/_devstore/products", json={"title": "X", "variants": [{"price": "cheap"}]}).status_code,
        client.post(
            "/_devstore/products",
            json={
                "title": "X",
                "options": ["Size"],
                "variants": [{"price": "1", "options": {"Colour": "Red"}}],
            },
        ).status_code,
        client.post(f"/_devstore/products/{product['id']}", json={"handle": "!!!"}).status_code,
        client.post(
            f"/_devstore/products/{product['id']}",
            json={"variants": [{"id": variant_ids[0], "inventory_quantity": 3}]},
        ).status_code,
        client.post(f"/_devstore/products/{missing}", json={"title": "Y"}).status_code,
        client.post(
            f"/_devstore/products/{product['id']}", json={"variants": [{"id": missing, "price": "1"}]}
        ).status_code,
        client.delete(f"/_devstore/products/{missing}").status_code,
        client.post("/_devstore/collections", json={"title": "C", "product_ids": [missing]}).status_code,
        client.post(
            f"/_devstore/collections/{missing}/add", json={"product_ids": [product["id"]]}
        ).status_code,
        client.delete(f"/_devstore/collections/{missing}").status_code,
    ]

    assert answers == [400, 422, 422, 422, 422, 400, 404, 404, 404, 404, 404, 404]
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})
    assert receiver.requests == []
    assert client.get(f"/_devstore/products/{product['id']}").json()["product"]["title"] == "Linen Camp Shirt"
    assert client.get("/_devstore/collections").json() == {"collections": []}


def test_another_shops_product_is_out_of_reach(
    client: TestClient, receiver: Receiver, other_shop: Row, product: Row
) -> None:
    # Given a product of the first shop
    # When a change to it is asked for in the other shop's name
    response = client.post(f"/_devstore/products/{product['id']}", json={"shop": OTHER_SHOP, "title": "Mine"})

    # Then there is no such product there, and nothing changed or was announced
    assert response.status_code == 404
    assert client.get(f"/_devstore/products/{product['id']}").json()["product"]["title"] == "Linen Camp Shirt"
    client.post("/_devstore/webhooks/wait", json={"timeout": 5})
    assert receiver.requests == []


def test_a_database_made_before_collection_sort_orders_gets_the_new_columns(tmp_path: Path) -> None:
    # Given a devstore file whose collections table predates sort_order and published_at
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE collections (id INTEGER PRIMARY KEY, shop_id INTEGER NOT NULL, title TEXT NOT NULL,"
            " handle TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,"
            " UNIQUE (shop_id, handle))"
        )
        old.execute(
            "INSERT INTO collections (shop_id, title, handle, updated_at) VALUES (1, 'Old', 'old', 'x')"
        )

    # When devstore opens it
    db = Database(str(path))

    # Then the old row reads with the new columns' defaults, and new collections can be made
    assert db.one("SELECT sort_order, published_at FROM collections WHERE handle = 'old'") == {
        "sort_order": "MANUAL",
        "published_at": None,
    }
    made = catalog.collection_create(db, 1, title="New")
    assert (made["sort_order"], made["published_at"] is not None) == ("MANUAL", True)
