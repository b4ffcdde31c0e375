"""The first-run checklist: what the merchant has done of the path from install to a shopper seeing
a personalized block, each step with where to do it.

What Omakase holds answers three steps (the import, the loyalty program, a newsletter topic); the
theme answers the other two, read from Shopify (`read_themes`): the published theme's
`config/settings_data.json` says whether the app embed is on, its `templates/*.json` whether a
block of ours is placed. The theme-editor steps link into Shopify's editor by the deep links
Shopify documents (the app's client id and the block's handle)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from commerce.backfill import backfill_latest_for_shop
from commerce.models import Backfill
from loyalty.models import Program
from loyalty.program import rewards_active
from newsletters.topics import topics_for
from shop_app.admin_api import AdminApiError, admin_client_for_shop
from shop_app.models import Shop
from shop_app.shopify_http import shopify_admin_url
from shop_app.tokens import ShopNotAuthorized

logger = logging.getLogger(__name__)

# The theme app extension's files (extensions/omakase-theme/blocks/): its embed, and the blocks
# that show picks (a test holds this list to the extension).
EMBED_HANDLE = "omakase-embed"
PICKS_BLOCK_HANDLES = ("picked-for-you", "because-you-bought", "back-in-your-size", "seasonal", "trending")
FIRST_BLOCK = ("picked-for-you", "index")

THEME_FILES_QUERY = """
query OverviewThemeFiles {
  themes(first: 1, roles: [MAIN]) {
    nodes {
      id
      files(filenames: ["config/settings_data.json", "templates/*.json"], first: 50) {
        nodes {
          filename
          body {
            ... on OnlineStoreThemeFileBodyText { content }
          }
        }
      }
    }
  }
}
"""
# Shopify's theme JSON may open with a comment block.
LEADING_COMMENT = re.compile(r"^\s*/\*.*?\*/", re.S)
APP_BLOCK_TYPE = re.compile(r"^shopify://apps/[^/]+/blocks/([^/]+)(?:/.*)?$")


@dataclass(frozen=True)
class Step:
    key: str
    done: bool | None  # None: not known (Shopify could not be asked)
    url: str  # where to do it: a page of ours, or the theme editor
    external: bool  # the theme editor: the admin's own page, opened at the top


@dataclass(frozen=True)
class ThemeState:
    embed_on: bool | None
    blocks_placed: bool | None


def _theme_json(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(LEADING_COMMENT.sub("", text, count=1))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def theme_state_from_files(files: dict[str, str]) -> ThemeState:
    """Whether the embed is on and a picks block placed, from the theme's JSON files. An embed the
    settings do not name is off: Shopify turns an app embed on only when the merchant saves it."""
    embed_on = False
    for entry in (
        _theme_json(files.get("config/settings_data.json", "")).get("current", {}).get("blocks", {}).values()
    ):
        found = APP_BLOCK_TYPE.match(str(entry.get("type", "")))
        if found and found.group(1) == EMBED_HANDLE:
            embed_on = not entry.get("disabled", False)
    placed = False
    for filename, text in files.items():
        if not filename.startswith("templates/"):
            continue
        for section in _theme_json(text).get("sections", {}).values():
            if section.get("disabled"):
                continue
            for block in section.get("blocks", {}).values():
                found = APP_BLOCK_TYPE.match(str(block.get("type", "")))
                if found and found.group(1) in PICKS_BLOCK_HANDLES and not block.get("disabled"):
                    placed = True
    return ThemeState(embed_on=embed_on, blocks_placed=placed)


def theme_state_read(shop: Shop) -> ThemeState:
    """The published theme's state, asked of Shopify; unknown when Shopify cannot answer."""
    try:
        data = admin_client_for_shop(shop).graphql(THEME_FILES_QUERY)
    except (AdminApiError, ShopNotAuthorized, httpx.HTTPError) as error:
        logger.warning("theme files of %s unavailable: %s", shop.domain, error)
        return ThemeState(embed_on=None, blocks_placed=None)
    themes = (data.get("themes") or {}).get("nodes") or []
    if not themes:
        return ThemeState(embed_on=False, blocks_placed=False)
    files = {
        node["filename"]: (node.get("body") or {}).get("content", "")
        for node in ((themes[0].get("files") or {}).get("nodes") or [])
    }
    return theme_state_from_files(files)


def theme_editor_links(shop: Shop) -> dict[str, str]:
    """Shopify's deep links: the app embed switched on, and the first block added to the home page."""
    editor = "/admin/themes/current/editor"
    handle, template = FIRST_BLOCK
    return {
        "app_embed": shopify_admin_url(
            shop.domain,
            editor,
            {"context": "apps", "activateAppId": f"{settings.SHOPIFY_API_KEY}/{EMBED_HANDLE}"},
        ),
        "blocks": shopify_admin_url(
            shop.domain,
            editor,
            {
                "template": template,
                "addAppBlockId": f"{settings.SHOPIFY_API_KEY}/{handle}",
                "target": "newAppsSection",
            },
        ),
    }


def checklist_for(shop: Shop, theme: ThemeState | None = None) -> list[Step]:
    """The steps in the order a merchant takes them."""
    theme = theme if theme is not None else theme_state_read(shop)
    backfill = backfill_latest_for_shop(shop)
    program = Program.objects.for_shop(shop).first()
    links = theme_editor_links(shop)
    return [
        Step("import", backfill is not None and backfill.status == Backfill.Status.DONE, "/", external=False),
        Step("app_embed", theme.embed_on, links["app_embed"], external=True),
        Step("blocks", theme.blocks_placed, links["blocks"], external=True),
        Step(
            "loyalty",
            program is not None and program.enabled and bool(rewards_active(shop)),
            "/loyalty",
            external=False,
        ),
        Step("topic", any(topic.active for topic in topics_for(shop)), "/newsletters", external=False),
    ]
