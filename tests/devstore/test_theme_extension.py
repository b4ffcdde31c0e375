"""The app's theme app extension (extensions/omakase-theme) on devstore's Online Store 2.0 theme:
each block where the theme places it, with its settings and the shopper's language."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from devstore import catalog
from devstore.config import DevstoreConfig
from devstore.context import Devstore
from devstore.db import Row

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "omakase-theme"
ASSETS = "/extensions-assets/omakase-theme/assets"
JAVASCRIPT_GZIPPED_MAX = 10 * 1024


@pytest.fixture
def config(config: DevstoreConfig) -> DevstoreConfig:
    config.extensions_dir = str(EXTENSION.parent)
    return config


@pytest.fixture
def collection(ds: Devstore, shop: Row, product: Row) -> Row:
    return catalog.collection_create(ds.db, shop["id"], title="Shirts", product_ids=[product["id"]])


def _sign_in(client: TestClient, customer: Row) -> None:
    assert (
        client.get("/account/login", params={"email": customer["email"]}, follow_redirects=False).status_code
        == 303
    )


def _block(page: str, kind: str) -> str:
    """The opening tag of the block whose data-block (or data-omakase) is `kind`."""
    found = re.search(rf'<section\s[^>]*data-(?:block|omakase)="{kind}"[^>]*>', page)
    assert found, f"no {kind} block on the page"
    return found.group(0)


def _heading(page: str, block_id: str) -> str:
    found = re.search(rf'id="omakase-heading-{block_id}">([^<]*)<', page)
    assert found, f"no heading for {block_id}"
    return found.group(1)


def test_the_home_page_has_picked_for_you_and_trending_with_their_settings(
    client: TestClient, shop: Row
) -> None:
    # When a shopper opens the home page
    page = client.get("/").text

    # Then "picked for you" and "trending" are there, as the theme's index.json places them
    for kind, block_id, heading in (
        ("for-you", "picked_for_you", "Picked for you"),
        ("trending", "trending", "Trending now"),
    ):
        tag = _block(page, kind)
        assert 'data-count="4"' in tag
        assert "omakase--grid" in tag
        assert "omakase--reasons" in tag
        assert 'data-locale="en"' in tag
        assert 'data-signed-in="false"' in tag
        assert _heading(page, block_id) == heading
    # each reserves its four items' place before the script runs
    assert page.count('<li class="omakase__item" aria-hidden="true">') == 8
    # and their strings come from the English locale file
    assert 'data-t-dismiss="Not for me: %s"' in page


def test_blocks_speak_japanese_when_the_shopper_browses_in_japanese(
    client: TestClient, product: Row, customer: Row
) -> None:
    _sign_in(client, customer)

    home = client.get("/", params={"locale": "ja"}).text
    product_page = client.get(f"/products/{product['handle']}", params={"locale": "ja"}).text
    account = client.get("/account", params={"locale": "ja"}).text

    assert _heading(home, "picked_for_you") == "あなたへのおすすめ"
    assert 'data-locale="ja"' in _block(home, "for-you")
    assert 'data-t-dismiss="興味なし：%s"' in home  # noqa: RUF001 - Japanese punctuation
    assert _heading(product_page, "because_you_bought") == "この商品を購入した方へ"
    assert _heading(account, "my_preferences") == "好みの設定"
    assert "この設定は、このショップで表示する商品を選ぶためだけに使います。" in account
    assert '<html lang="ja">' in home


def test_the_product_page_has_because_you_bought_with_the_product_and_back_in_your_size(
    client: TestClient, product: Row
) -> None:
    page = client.get(f"/products/{product['handle']}").text

    bought = _block(page, "because-you-bought")
    assert f'data-product-id="{product["id"]}"' in bought
    assert "omakase--row" in bought
    assert _heading(page, "because_you_bought") == "Because you bought this"
    assert _heading(page, "back_in_your_size") == "Back in your size"
    # and the theme's own product form keeps its selectors
    assert '<select name="id"' in page
    assert 'name="add"' in page
    assert "/cdn/shop/products/" in page


def test_the_collection_page_has_the_seasonal_block(client: TestClient, collection: Row) -> None:
    page = client.get(f"/collections/{collection['handle']}").text

    assert "omakase--row" in _block(page, "seasonal")
    assert _heading(page, "seasonal") == "For the season"
    assert "Linen Camp Shirt" in page


def test_the_account_page_has_my_preferences_with_its_consent_text(client: TestClient, customer: Row) -> None:
    _sign_in(client, customer)

    page = client.get("/account").text

    tag = _block(page, "preferences")
    assert 'data-signed-in="true"' in tag
    assert 'data-consent-version="1"' in tag
    assert "We use these preferences only to choose what we show you" in tag
    assert "Order history" in page


def test_the_quiz_sits_on_its_page(client: TestClient, shop: Row) -> None:
    page = client.get("/pages/quiz").text

    tag = _block(page, "quiz")
    assert 'data-count="3"' in tag
    assert _heading(page, "quiz") == "Find your fit"
    assert client.get("/pages/nothing-here").status_code == 404


def test_the_script_and_stylesheet_load_once_deferred_with_the_embed_on(
    client: TestClient, shop: Row
) -> None:
    page = client.get("/").text

    head, body = page.split("</head>", 1)
    assert head.count(f'<script src="{ASSETS}/omakase.js" defer></script>') == 1
    assert head.count(f'<link rel="stylesheet" href="{ASSETS}/omakase.css">') == 1
    assert "omakase.js" not in body
    assert 'data-block-handle="omakase-embed"' in body
    assert client.get(f"{ASSETS}/omakase.js").status_code == 200


def test_a_page_without_the_apps_has_no_blocks_and_no_script(client: TestClient, shop: Row) -> None:
    page = client.get("/", params={"_devstore_apps": "off"}).text

    assert "data-omakase" not in page
    assert "omakase.js" not in page
    assert "omakase.css" not in page
    assert "Featured" in page


def test_the_extensions_scripts_are_at_most_10_kb_gzipped_in_total() -> None:
    scripts = list((EXTENSION / "assets").glob("*.js"))

    gzipped = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in scripts)

    assert "omakase.js" in [path.name for path in scripts]
    assert gzipped <= JAVASCRIPT_GZIPPED_MAX, f"{gzipped} bytes gzipped"


def test_every_english_string_has_its_japanese() -> None:
    def keys(tree: dict[str, object], prefix: str = "") -> set[str]:
        found = set()
        for key, value in tree.items():
            found |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
        return found

    english = json.loads((EXTENSION / "locales" / "en.default.json").read_text())
    japanese = json.loads((EXTENSION / "locales" / "ja.json").read_text())

    assert keys(english) == keys(japanese)
    for block in [*(EXTENSION / "blocks").glob("*.liquid"), *(EXTENSION / "snippets").glob("*.liquid")]:
        for key in re.findall(r"'([\w.]+)' \| t\b", block.read_text()):
            assert key in keys(english), f"{block.name}: {key}"


def test_a_products_picture_is_drawn_the_same_every_time(client: TestClient, product: Row) -> None:
    first = client.get(f"/cdn/shop/products/{product['handle']}.svg")
    again = client.get(f"/cdn/shop/products/{product['handle']}.svg")

    assert first.status_code == 200
    assert first.headers["content-type"].startswith("image/svg+xml")
    assert first.text == again.text
    assert ">LC</text>" in first.text
