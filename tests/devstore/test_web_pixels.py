"""devstore keeps the app's web pixel as Shopify does: webPixelCreate and webPixelUpdate check the
settings against the extension's toml; and its storefront pages carry the pixel, its settings,
the consent banner and the page's standard events in Shopify's payload shapes."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from devstore.context import Devstore
from devstore.db import Row
from tests.devstore.conftest import SHOP, GraphQL

EXTENSIONS = Path(__file__).resolve().parents[2] / "extensions"
KEY = "k" * 32
ENDPOINT = "https://omakase.example/pixel/events"
CREATE = """
mutation Create($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) { webPixel { id settings } userErrors { field message code } }
}"""
UPDATE = """
mutation Update($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) { webPixel { id settings } userErrors { field message code } }
}"""


@pytest.fixture
def with_pixel_extension(ds: Devstore) -> None:
    ds.config.extensions_dir = str(EXTENSIONS)


def settings(**values: Any) -> str:
    return json.dumps({"key": KEY, "endpoint": ENDPOINT, **values})


def test_the_pixel_is_created_once_and_updated_with_settings_its_toml_allows(
    gql: GraphQL, with_pixel_extension: None
) -> None:
    created = gql(CREATE, {"webPixel": {"settings": settings()}})["data"]["webPixelCreate"]
    again = gql(CREATE, {"webPixel": {"settings": settings()}})["data"]["webPixelCreate"]
    pixel_id = created["webPixel"]["id"]
    updated = gql(UPDATE, {"id": pixel_id, "webPixel": {"settings": settings(key="n" * 32)}})["data"]

    assert created["userErrors"] == []
    assert json.loads(created["webPixel"]["settings"]) == {"key": KEY, "endpoint": ENDPOINT}
    assert [error["code"] for error in again["userErrors"]] == ["TAKEN"]
    assert json.loads(updated["webPixelUpdate"]["webPixel"]["settings"])["key"] == "n" * 32
    shown = gql("query { webPixel { id settings } }")["data"]["webPixel"]
    assert shown["id"] == pixel_id


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps({"key": KEY}),
        settings(key="short"),
        settings(other="x"),
        json.dumps({"key": KEY, "endpoint": 42}),
    ],
)
def test_settings_the_toml_does_not_allow_are_refused_and_nothing_changes(
    gql: GraphQL, with_pixel_extension: None, bad: str
) -> None:
    pixel_id = gql(CREATE, {"webPixel": {"settings": settings()}})["data"]["webPixelCreate"]["webPixel"]["id"]
    answer = gql(UPDATE, {"id": pixel_id, "webPixel": {"settings": bad}})["data"]["webPixelUpdate"]

    assert answer["webPixel"] is None
    assert [error["code"] for error in answer["userErrors"]] == ["INVALID_SETTINGS"]
    assert json.loads(gql("query { webPixel { settings } }")["data"]["webPixel"]["settings"])["key"] == KEY


def test_an_app_without_a_pixel_extension_cannot_create_one(gql: GraphQL) -> None:
    answer = gql(CREATE, {"webPixel": {"settings": settings()}})["data"]["webPixelCreate"]
    assert [error["code"] for error in answer["userErrors"]] == ["NO_EXTENSION"]


def page_config(client: TestClient, path: str, **cookies: str) -> dict[str, Any] | None:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    html = client.get(path, headers={"Host": SHOP}).text
    marker = '<script type="application/json" id="devstore-web-pixels">'
    if marker not in html:
        return None
    config: dict[str, Any] = json.loads(html.split(marker, 1)[1].split("</script>", 1)[0])
    banner = re.search(r'<div id="devstore-consent"[^>]*>', html)
    config["_banner_hidden"] = banner is not None and " hidden" in banner.group(0)
    return config


def test_a_product_page_carries_the_pixel_and_its_product_viewed_event(
    client: TestClient, gql: GraphQL, with_pixel_extension: None, product: Row
) -> None:
    assert page_config(client, f"/products/{product['handle']}") is None  # no web pixel yet
    gql(CREATE, {"webPixel": {"settings": settings()}})

    config = page_config(client, f"/products/{product['handle']}")

    assert config is not None
    assert config["consent"] is None
    assert not config["_banner_hidden"]
    [pixel] = config["pixels"]
    assert pixel["settings"] == {"key": KEY, "endpoint": ENDPOINT}
    assert pixel["needs"] == {
        "analytics": True,
        "marketing": False,
        "preferences": False,
        "sale_of_data": False,
    }
    [event] = config["events"]
    assert event["name"] == "product_viewed"
    variant = event["data"]["productVariant"]
    assert variant["product"]["id"] == str(product["id"])
    assert variant["price"] == {"amount": 60.0, "currencyCode": "USD"}
    assert page_config(client, f"/products/{product['handle']}?_devstore_apps=off") is None


def test_the_shoppers_choice_hides_the_banner_and_reaches_the_manager(
    client: TestClient, gql: GraphQL, with_pixel_extension: None, product: Row
) -> None:
    gql(CREATE, {"webPixel": {"settings": settings()}})
    choice = json.dumps({"analytics": False, "marketing": False, "preferences": False, "sale_of_data": False})

    config = page_config(client, "/", _tracking_consent=choice)

    assert config is not None
    assert config["consent"]["analytics"] is False
    assert config["_banner_hidden"]
