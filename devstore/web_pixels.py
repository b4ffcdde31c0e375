"""The app's web pixel, as Shopify keeps it: the extension read from `extensions/*/shopify.extension.toml`
(type `web_pixel_extension`), and per shop one web pixel record holding its settings, which
`webPixelCreate` / `webPixelUpdate` write after checking them against the toml's settings
definition. The storefront runs the built extension (`dist/`) with these settings
(devstore.storefront.pixels)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstore.db import Database, Row
from devstore.formats import now_iso


@dataclass(frozen=True)
class PixelExtension:
    handle: str
    path: Path
    runtime_context: str
    # Which of the visitor's permissions the pixel needs: analytics, marketing, preferences; and
    # sale_of_data ("enabled" when the pixel needs the shopper not to have opted out).
    privacy: dict[str, Any]
    # {field key: {"type", "validations": {name: value}}}
    fields: dict[str, dict[str, Any]]

    @property
    def bundle(self) -> Path:
        return self.path / "dist" / f"{self.handle}.js"

    def needs(self, permission: str) -> bool:
        value = self.privacy.get(permission, False)
        return value is True or value == "enabled"


def pixel_extension_load(root: Path) -> PixelExtension | None:
    """The app's web pixel extension under `root`, if it has one."""
    if not root.is_dir():
        return None
    for toml in sorted(root.glob("*/shopify.extension.toml")):
        with toml.open("rb") as handle:
            data = tomllib.load(handle)
        if data.get("type") != "web_pixel_extension":
            continue
        fields = {}
        for key, spec in ((data.get("settings") or {}).get("fields") or {}).items():
            validations = {str(v["name"]): v["value"] for v in spec.get("validations", [])}
            fields[str(key)] = {"type": str(spec.get("type", "")), "validations": validations}
        return PixelExtension(
            handle=str(data.get("handle") or toml.parent.name),
            path=toml.parent,
            runtime_context=str(data.get("runtime_context", "strict")),
            privacy=dict(data.get("customer_privacy") or {}),
            fields=fields,
        )
    return None


def pixel_settings_check(  # noqa: PLR0911 - one refusal per rule, as Shopify words them
    extension: PixelExtension, settings: Any
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Settings as `webPixelCreate` takes them (a JSON string, as Shopify's examples send, or an
    object), checked against the toml: every declared field, no other, each a string within its
    validations. Returns the settings and userErrors."""

    def refused(message: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
        return {}, [{"field": ["webPixel", "settings"], "message": message, "code": "INVALID_SETTINGS"}]

    if isinstance(settings, str):
        try:
            settings = json.loads(settings)
        except ValueError:
            return refused("Settings must be a JSON object")
    if not isinstance(settings, dict):
        return refused("Settings must be a JSON object")
    unknown = sorted(set(settings) - set(extension.fields))
    if unknown:
        return refused(f"Settings has fields the extension does not define: {', '.join(unknown)}")
    for key, spec in extension.fields.items():
        value = settings.get(key)
        if not isinstance(value, str) or not value:
            return refused(f"Setting {key} is required and must be text")
        least, most = spec["validations"].get("min"), spec["validations"].get("max")
        if spec["type"] == "single_line_text_field" and "\n" in value:
            return refused(f"Setting {key} must be a single line")
        if least is not None and len(value) < int(least):
            return refused(f"Setting {key} must be at least {least} characters")
        if most is not None and len(value) > int(most):
            return refused(f"Setting {key} must be at most {most} characters")
    return {key: str(value) for key, value in settings.items()}, []


def web_pixel_get(db: Database, shop_id: int) -> Row | None:
    return db.one("SELECT * FROM web_pixels WHERE shop_id = ?", (shop_id,))


def web_pixel_create(db: Database, shop_id: int, settings: dict[str, str]) -> Row | None:
    """None when the shop already has the app's web pixel (Shopify's TAKEN)."""
    if web_pixel_get(db, shop_id) is not None:
        return None
    now = now_iso()
    db.execute(
        "INSERT INTO web_pixels (shop_id, settings, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (shop_id, json.dumps(settings), now, now),
    )
    return web_pixel_get(db, shop_id)


def web_pixel_update(db: Database, shop_id: int, pixel_id: int, settings: dict[str, str]) -> Row | None:
    """None when the shop has no web pixel with that id."""
    db.execute(
        "UPDATE web_pixels SET settings = ?, updated_at = ? WHERE shop_id = ? AND id = ?",
        (json.dumps(settings), now_iso(), shop_id, pixel_id),
    )
    row = web_pixel_get(db, shop_id)
    return row if row is not None and row["id"] == pixel_id else None


def web_pixel_delete(db: Database, shop_id: int, pixel_id: int) -> bool:
    found = web_pixel_get(db, shop_id)
    if found is None or found["id"] != pixel_id:
        return False
    db.execute("DELETE FROM web_pixels WHERE shop_id = ? AND id = ?", (shop_id, pixel_id))
    return True


def web_pixel_node(row: Row) -> dict[str, Any]:
    # Shopify answers `settings` as the JSON string it keeps.
    return {"id": f"gid://shopify/WebPixel/{row['id']}", "settings": row["settings"]}
