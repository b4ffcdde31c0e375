"""The theme editor's deep links, the storefront that follows what it saved, and the theme's files
in the Admin API (`theme.files`), as an app reads them to know what the merchant has done."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from devstore.db import Row
from tests.devstore.conftest import API_KEY, SHOP, GraphQL

THEME_FILES = """
query ThemeFiles {
  themes(first: 1, roles: [MAIN]) {
    nodes {
      id
      files(filenames: ["config/settings_data.json", "templates/*.json"], first: 50) {
        nodes { filename body { ... on OnlineStoreThemeFileBodyText { content } } }
        userErrors { filename code }
      }
    }
  }
}
"""


def _embed_off(client: TestClient) -> None:
    settings = {
        "current": {
            "blocks": {
                "loyalty": {
                    "type": "shopify://apps/omakase-theme/blocks/loyalty-embed/abc",
                    "disabled": True,
                    "settings": {},
                }
            }
        }
    }
    response = client.post(
        "/_devstore/theme/files",
        json={"filename": "config/settings_data.json", "content": json.dumps(settings)},
    )
    assert response.status_code == 200


def test_the_activate_deep_link_opens_the_embed_switched_on_and_save_publishes_it(
    client: TestClient, shop: Row
) -> None:
    # Given a theme whose app embed is off: the storefront has no embed
    _embed_off(client)
    assert 'id="omakase-loyalty"' not in client.get("/").text

    # When the merchant follows the app's deep link
    editor = client.get(f"/admin/themes/current/editor?context=apps&activateAppId={API_KEY}/loyalty-embed")

    # Then the editor shows the embed switched on, not yet saved, and nothing changed yet
    assert editor.status_code == 200
    assert 'value="omakase-theme/loyalty-embed" checked' in editor.text
    assert 'data-dirty="1"' in editor.text
    assert 'id="omakase-loyalty"' not in client.get("/").text

    # And once saved the storefront carries the embed
    saved = client.post(
        "/admin/themes/current/editor",
        data={"template": "index", "embeds_listed": "1", "embed": "omakase-theme/loyalty-embed"},
        follow_redirects=True,
    )
    assert "Saved." in saved.text
    assert 'id="omakase-loyalty"' in client.get("/").text


def test_the_add_block_deep_link_places_the_block_in_a_new_apps_section(
    client: TestClient, shop: Row, gql: GraphQL
) -> None:
    # When the merchant follows the add-block link and saves
    editor = client.get(
        f"/admin/themes/current/editor?template=index&addAppBlockId={API_KEY}/recommendations"
        "&target=newAppsSection"
    )
    assert 'data-adding="recommendations"' in editor.text
    client.post(
        "/admin/themes/current/editor",
        data={"template": "index", "add_block": "omakase-theme/recommendations", "target": "newAppsSection"},
    )

    # Then the app reads the template with the block placed, through the Admin API
    body = gql(THEME_FILES)
    files = {
        node["filename"]: node["body"]["content"]
        for node in body["data"]["themes"]["nodes"][0]["files"]["nodes"]
    }
    assert "templates/index.json" in files
    assert "shopify://apps/omakase-theme/blocks/recommendations/" in files["templates/index.json"]
    assert "config/settings_data.json" in files


def test_an_unknown_block_is_refused_and_a_missing_file_is_not_found(
    client: TestClient, shop: Row, gql: GraphQL
) -> None:
    editor = client.get(f"/admin/themes/current/editor?context=apps&activateAppId={API_KEY}/nothing-here")
    assert "was not found" in editor.text

    body = gql(
        'query { themes(first: 1) { nodes { files(filenames: ["templates/none.json"]) '
        "{ nodes { filename } userErrors { filename code } } } } }"
    )
    files = body["data"]["themes"]["nodes"][0]["files"]
    assert files["nodes"] == []
    assert files["userErrors"] == [{"filename": "templates/none.json", "code": "NOT_FOUND"}]


def test_a_second_shop_keeps_its_own_theme(client: TestClient, shop: Row, other_shop: Row) -> None:
    # Given the first shop's embed turned off
    _embed_off(client)

    # Then the other shop's storefront is unchanged
    other = client.get("/", headers={"host": other_shop["domain"]})
    assert 'id="omakase-loyalty"' in other.text
    assert other_shop["domain"] != SHOP
