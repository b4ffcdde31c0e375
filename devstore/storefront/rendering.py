"""Liquid rendering: the theme's layout, its JSON templates and sections, app blocks and embeds.

An Online Store 2.0 theme as Shopify renders it: `templates/{name}.json` lists sections (each
`sections/{type}.liquid`, settings from its schema) and their blocks; an app block is placed by its
type `shopify://apps/{extension}/blocks/{handle}/{uuid}` and rendered where the section says
`{% render block %}`. `config/settings_data.json` turns app embeds on or off. A template without
JSON is `templates/{name}.liquid`, with the app's blocks at `content_for_app_blocks`.

Devstore's shortcut for an extension block the theme places nowhere (say a block just added to
the extension): it shows on every template its `enabled_on` allows, in an apps section at the
end; an embed `settings_data.json` does not name is on.

The JSON files are read per page through `files(shop_id, filename)` when given (devstore.themes:
what the theme editor saved for the shop over the theme on disk), else from the theme on disk.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liquid import Environment, FileSystemLoader, RenderContext
from liquid.filter import with_context

from devstore.storefront.extensions import SCHEMA, AppBlock, Extension
from devstore.storefront.money import (
    money_format,
    money_format_for,
    money_format_placeholder,
    money_with_currency_format_for,
)

THEME = Path(__file__).parent / "theme"


def _shop_format(context: RenderContext, key: str) -> str:
    """The shop's money format from the `shop` object every page and block sees."""
    shop = context.resolve("shop", default=None)
    if isinstance(shop, dict) and shop.get(key):
        return str(shop[key])
    return (
        money_with_currency_format_for("USD")
        if key == "money_with_currency_format"
        else money_format_for("USD")
    )


@with_context
def money(cents: Any, *_: Any, context: RenderContext) -> str:
    """{{ 13600 | money }} -> "$136.00" (the shop's money_format)."""
    return money_format(cents, _shop_format(context, "money_format"))


@with_context
def money_with_currency(cents: Any, *_: Any, context: RenderContext) -> str:
    """{{ 13600 | money_with_currency }} -> "$136.00 USD"."""
    return money_format(cents, _shop_format(context, "money_with_currency_format"))


@with_context
def money_without_currency(cents: Any, *_: Any, context: RenderContext) -> str:
    """{{ 13600 | money_without_currency }} -> "136.00" (the shop's number format, no symbol)."""
    return money_format(cents, money_format_placeholder(_shop_format(context, "money_format")))


@with_context
def money_without_trailing_zeros(cents: Any, *_: Any, context: RenderContext) -> str:
    """{{ 13600 | money_without_trailing_zeros }} -> "$136"; "$136.50" keeps its cents."""
    return money_format(cents, _shop_format(context, "money_format"), trailing_zeros=False)


def _json(value: Any, *_: Any) -> str:
    return json.dumps(value, default=str)


def _base_environment(loader: Any = None) -> Environment:
    env = Environment(loader=loader, strict_filters=False)
    env.add_filter("money", money)
    env.add_filter("money_with_currency", money_with_currency)
    env.add_filter("money_without_currency", money_without_currency)
    env.add_filter("money_without_trailing_zeros", money_without_trailing_zeros)
    env.add_filter("json", _json)
    env.add_filter("img_url", lambda value, *_: value or "")
    env.add_filter("image_url", lambda value, *_args, **_kw: value or "")
    return env


APP_BLOCK_TYPE = re.compile(r"^shopify://apps/([^/]+)/blocks/([^/]+)(?:/.*)?$")
# Shopify renders an app block where a section says `{% render block %}`; python-liquid's render
# takes a snippet name only, so the block's HTML, rendered beforehand, stands in for it.
RENDER_BLOCK = re.compile(r"{%-?\s*render\s+block\s*-?%}")
# Shopify's theme JSON may open with a comment block (the theme editor writes one).
LEADING_COMMENT = re.compile(r"^\s*/\*.*?\*/", re.S)
# `?_devstore_apps=off` renders a page without the app's blocks and embeds, to compare.
APPS_OFF = "_devstore_apps"


def _schema_split(text: str) -> tuple[str, dict[str, Any]]:
    found = SCHEMA.search(text)
    return SCHEMA.sub("", text), (json.loads(found.group(1)) if found else {})


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    return {s["id"]: s.get("default") for s in schema.get("settings", []) if "id" in s}


class Renderer:
    """Renders theme templates inside the layout, with the app's blocks where they belong."""

    def __init__(
        self,
        extensions: list[Extension],
        asset_base: str,
        theme: Path = THEME,
        files: Callable[[int, str], str | None] | None = None,
    ) -> None:
        self.extensions = extensions
        self.files = files
        self.asset_base = asset_base.rstrip("/")
        self.theme_path = theme
        self.theme = _base_environment(FileSystemLoader([theme, theme / "snippets"], ext=".liquid"))
        self.theme.add_filter("asset_url", lambda name, *_: f"/theme-assets/{name}")
        self._block_envs = {e.name: self._extension_environment(e) for e in extensions}
        self._blocks = {(e.name, b.handle): b for e in extensions for b in e.blocks}

    def _theme_json(self, context: dict[str, Any], filename: str) -> dict[str, Any] | None:
        """A JSON file of the shop's theme (None when it has none)."""
        shop = context.get("shop")
        text: str | None = None
        if self.files is not None and isinstance(shop, dict) and shop.get("id") is not None:
            text = self.files(int(shop["id"]), filename)
        else:
            path = self.theme_path / filename
            text = path.read_text() if path.is_file() else None
        if text is None:
            return None
        data = json.loads(LEADING_COMMENT.sub("", text, count=1))
        return data if isinstance(data, dict) else None

    def _embeds(self, context: dict[str, Any]) -> dict[str, Any]:
        settings = self._theme_json(context, "config/settings_data.json") or {}
        embeds: dict[str, Any] = settings.get("current", {}).get("blocks", {})
        return embeds

    def _extension_environment(self, extension: Extension) -> Environment:
        env = _base_environment(FileSystemLoader(extension.path / "snippets", ext=".liquid"))
        base = f"{self.asset_base}/{extension.name}/assets"
        env.add_filter("asset_url", lambda name, *_: f"{base}/{name}")

        @with_context
        def translate(key: Any, *_args: Any, context: RenderContext, **variables: Any) -> str:
            request = context.resolve("request", default=None)
            locale = (
                (request or {}).get("locale", {}).get("iso_code", "") if isinstance(request, dict) else ""
            )
            text = extension.translate(str(key), str(locale or ""))
            for name, value in variables.items():
                text = text.replace("{{ " + name + " }}", str(value)).replace("{{" + name + "}}", str(value))
            return text

        env.add_filter("t", translate)
        return env

    def _placed_blocks(self, context: dict[str, Any]) -> set[tuple[str, str]]:
        """Every (extension, block handle) a JSON template names."""
        placed = set()
        for template in (self.theme_path / "templates").rglob("*.json"):
            data = self._theme_json(context, str(template.relative_to(self.theme_path))) or {}
            for section in data.get("sections", {}).values():
                for block in section.get("blocks", {}).values():
                    found = APP_BLOCK_TYPE.match(str(block.get("type", "")))
                    if found:
                        placed.add((found.group(1), found.group(2)))
        return placed

    def _block(
        self, block: AppBlock, context: dict[str, Any], block_id: str, settings: dict[str, Any]
    ) -> str:
        env = self._block_envs[block.extension]
        body = env.from_string(block.source).render(
            **context,
            block={
                "id": block_id,
                "type": f"shopify://apps/{block.extension}/blocks/{block.handle}",
                "settings": {**block.defaults(), **settings},
                "shopify_attributes": f'data-block-id="{block_id}"',
            },
        )
        context["_app_assets"].extend(a for a in self._asset_urls(block) if a not in context["_app_assets"])
        kind = "app-embed" if block.is_embed else "app-block"
        return (
            f'<div class="shopify-block shopify-{kind}" id="shopify-block-{block_id}"'
            f' data-block-handle="{html.escape(block.handle)}">{body}</div>'
        )

    def _asset_urls(self, block: AppBlock) -> list[str]:
        return [f"{self.asset_base}/{block.extension}/assets/{name}" for name in block.assets]

    def app_blocks(
        self, template: str, context: dict[str, Any], *, embeds: bool, target: str = "body"
    ) -> str:
        """Embeds that are on, or the blocks the theme places nowhere, for this template."""
        if context.get("_apps_off"):
            return ""
        parts = []
        theme_embeds = self._embeds(context) if embeds else {}
        placed = set() if embeds else self._placed_blocks(context)
        for extension in self.extensions:
            for index, block in enumerate(extension.blocks):
                if block.is_embed != embeds or not block.shown_on(template):
                    continue
                if embeds and (block.target != target or not self._embed_on(block, theme_embeds)):
                    continue
                if not embeds and (block.extension, block.handle) in placed:
                    continue
                block_id = f"{block.extension}-{block.handle}-{index}"
                parts.append(self._block(block, context, block_id, self._embed_settings(block, theme_embeds)))
        return "\n".join(parts)

    def _embed_entry(self, block: AppBlock, theme_embeds: dict[str, Any]) -> dict[str, Any] | None:
        for entry in theme_embeds.values():
            found = APP_BLOCK_TYPE.match(str(entry.get("type", "")))
            if found and (found.group(1), found.group(2)) == (block.extension, block.handle):
                return dict(entry)
        return None

    def _embed_on(self, block: AppBlock, theme_embeds: dict[str, Any]) -> bool:
        entry = self._embed_entry(block, theme_embeds)
        return entry is None or not entry.get("disabled", False)

    def _embed_settings(self, block: AppBlock, theme_embeds: dict[str, Any]) -> dict[str, Any]:
        entry = self._embed_entry(block, theme_embeds) if block.is_embed else None
        return dict((entry or {}).get("settings", {}))

    def _section(
        self, template: str, section_id: str, section: dict[str, Any], context: dict[str, Any]
    ) -> str:
        source, schema = _schema_split(
            (self.theme_path / "sections" / f"{section['type']}.liquid").read_text()
        )
        blocks = []
        for block_id in section.get("block_order", list(section.get("blocks", {}))):
            entry = section["blocks"][block_id]
            if entry.get("disabled"):
                continue
            found = APP_BLOCK_TYPE.match(str(entry.get("type", "")))
            if not found:
                blocks.append({"id": block_id, "type": entry["type"], "settings": entry.get("settings", {})})
                continue
            app_block = self._blocks.get((found.group(1), found.group(2)))
            if app_block is None or context.get("_apps_off") or not app_block.shown_on(template):
                continue
            rendered = self._block(app_block, context, block_id, entry.get("settings", {}))
            blocks.append({"id": block_id, "type": "@app", "rendered": rendered})
        section_object = {
            "id": section_id,
            "settings": {**_defaults(schema), **section.get("settings", {})},
            "blocks": blocks,
        }
        body = self.theme.from_string(RENDER_BLOCK.sub("{{ block.rendered }}", source)).render(
            **context, section=section_object
        )
        return (
            f'<div id="shopify-section-{section_id}" class="shopify-section section-{section["type"]}">'
            f"{body}</div>"
        )

    def _json_template(self, template: str, context: dict[str, Any]) -> str | None:
        data = self._theme_json(context, f"templates/{template}.json")
        if data is None:
            return None
        parts = [
            self._section(template, section_id, data["sections"][section_id], context)
            for section_id in data.get("order", list(data["sections"]))
            if not data["sections"][section_id].get("disabled")
        ]
        if context["content_for_app_blocks"]:
            parts.append(
                '<div class="shopify-section section-apps"><div class="page-width">'
                f"{context['content_for_app_blocks']}</div></div>"
            )
        return "\n".join(parts)

    def page(self, template: str, context: dict[str, Any], content: str | None = None) -> str:
        """A full page: `templates/{template}.json` or `.liquid` (or given content) in the layout."""
        context = {
            **context,
            "template": template,
            "request": {**context.get("request", {}), "page_type": template.rsplit("/", maxsplit=1)[-1]},
            "_app_assets": [],
        }
        context["content_for_app_blocks"] = self.app_blocks(template, context, embeds=False)
        if content is None:
            content = self._json_template(template, context)
        if content is None:
            content = self.theme.get_template(f"templates/{template}.liquid").render(**context)
        head = self.app_blocks(template, context, embeds=True, target="head")
        body_embeds = self.app_blocks(template, context, embeds=True, target="body")
        # The blocks' schema assets, once each: stylesheets in the head (before first paint, so
        # blocks keep their reserved size), scripts deferred.
        assets = "".join(
            f'<link rel="stylesheet" href="{url}">'
            if url.endswith(".css")
            else f'<script src="{url}" defer></script>'
            for url in context["_app_assets"]
        )
        return self.theme.get_template("layout/theme.liquid").render(
            **context,
            content_for_layout=content,
            content_for_header=assets + head,
            content_for_app_embeds=body_embeds,
        )

    def string(self, source: str, context: dict[str, Any]) -> str:
        """Liquid from elsewhere (an app proxy answer), rendered with the storefront's objects."""
        return self.theme.from_string(source).render(**context)
