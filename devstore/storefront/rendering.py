"""Liquid rendering: the theme's layout and templates, app blocks and app embeds."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from liquid import Environment, FileSystemLoader, RenderContext
from liquid.filter import with_context

from devstore.storefront.extensions import AppBlock, Extension
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


class Renderer:
    """Renders theme templates inside the layout, with the app's blocks where they belong."""

    def __init__(self, extensions: list[Extension], asset_base: str) -> None:
        self.extensions = extensions
        self.asset_base = asset_base.rstrip("/")
        self.theme = _base_environment(FileSystemLoader(str(THEME)))
        self.theme.add_filter("asset_url", lambda name, *_: f"/theme-assets/{name}")
        self._block_envs = {e.name: self._extension_environment(e) for e in extensions}

    def _extension_environment(self, extension: Extension) -> Environment:
        env = _base_environment()
        base = f"{self.asset_base}/{extension.name}/assets"
        env.add_filter("asset_url", lambda name, *_: f"{base}/{name}")
        env.add_filter("t", lambda key, *_args, **_kw: extension.translate(str(key)))
        return env

    def _block(self, block: AppBlock, context: dict[str, Any], index: int) -> str:
        block_id = f"{block.extension}-{block.handle}-{index}"
        env = self._block_envs[block.extension]
        body = env.from_string(block.source).render(
            **context,
            block={
                "id": block_id,
                "type": f"shopify://apps/{block.extension}/blocks/{block.handle}",
                "settings": block.defaults(),
                "shopify_attributes": f'data-block-id="{block_id}"',
            },
        )
        kind = "app-embed" if block.is_embed else "app-block"
        return (
            f'<div class="shopify-block shopify-{kind}" id="shopify-block-{block_id}"'
            f' data-block-handle="{html.escape(block.handle)}">{body}</div>'
        )

    def app_blocks(
        self, template: str, context: dict[str, Any], *, embeds: bool, target: str = "body"
    ) -> str:
        parts = []
        for extension in self.extensions:
            for index, block in enumerate(extension.blocks):
                if block.is_embed != embeds or not block.shown_on(template):
                    continue
                if embeds and block.target != target:
                    continue
                parts.append(self._block(block, context, index))
        return "\n".join(parts)

    def page(self, template: str, context: dict[str, Any], content: str | None = None) -> str:
        """A full page: `templates/{template}.liquid` (or given content) inside the layout."""
        context = {
            **context,
            "template": template,
            "request": {**context.get("request", {}), "page_type": template},
        }
        context["content_for_app_blocks"] = self.app_blocks(template, context, embeds=False)
        if content is None:
            content = self.theme.get_template(f"templates/{template}.liquid").render(**context)
        head = self.app_blocks(template, context, embeds=True, target="head")
        body_embeds = self.app_blocks(template, context, embeds=True, target="body")
        return self.theme.get_template("layout/theme.liquid").render(
            **context, content_for_layout=content, content_for_header=head, content_for_app_embeds=body_embeds
        )

    def string(self, source: str, context: dict[str, Any]) -> str:
        """Liquid from elsewhere (an app proxy answer), rendered with the storefront's objects."""
        return self.theme.from_string(source).render(**context)
