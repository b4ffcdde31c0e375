"""The shop's published theme, as Shopify keeps it: devstore's theme on disk
(`storefront/theme/`) is every shop's starting point, and what the theme editor saves for a shop
(`config/settings_data.json`, `templates/*.json`) is kept in the `theme_files` table over it. The
storefront renders through `theme_file_read`, the Admin API's `theme.files` reads the same, so the
app sees what the shopper sees.

One theme per shop, its role MAIN, its id the shop's id (Shopify's ids differ; nothing relies on
them being equal)."""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstore.db import Database

THEME_DIR = Path(__file__).parent / "storefront" / "theme"
THEME_NAME = "Dawn (devstore)"
SETTINGS_DATA = "config/settings_data.json"
# Shopify's theme JSON files may open with a comment block (the editor writes one).
LEADING_COMMENT = re.compile(r"^\s*/\*.*?\*/", re.S)
# An app block's type in the theme: shopify://apps/{extension}/blocks/{handle}/{uuid}.
APP_BLOCK_TYPE = re.compile(r"^shopify://apps/([^/]+)/blocks/([^/]+)(?:/.*)?$")


def theme_id_of(shop_id: int) -> int:
    return shop_id


def _base_filenames(theme: Path = THEME_DIR) -> list[str]:
    return sorted(str(path.relative_to(theme)) for path in theme.rglob("*") if path.is_file())


def theme_filenames(db: Database, shop_id: int, patterns: list[str] | None = None) -> list[str]:
    """The theme's files, in name order; `patterns` as Shopify takes them (`templates/*.json`)."""
    saved = [
        row["filename"] for row in db.all("SELECT filename FROM theme_files WHERE shop_id = ?", (shop_id,))
    ]
    names = sorted(set(_base_filenames()) | set(saved))
    if patterns is None:
        return names
    return [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def theme_file_read(db: Database, shop_id: int, filename: str) -> str | None:
    """The file as the shop's theme has it: the editor's saved version, or devstore's own."""
    row = db.one("SELECT content FROM theme_files WHERE shop_id = ? AND filename = ?", (shop_id, filename))
    if row is not None:
        return str(row["content"])
    path = (THEME_DIR / filename).resolve()
    if THEME_DIR.resolve() not in path.parents or not path.is_file():
        return None
    return path.read_text()


def theme_file_updated_at(db: Database, shop_id: int, filename: str) -> str | None:
    return db.scalar(
        "SELECT updated_at FROM theme_files WHERE shop_id = ? AND filename = ?", (shop_id, filename)
    )


def theme_file_write(db: Database, shop_id: int, filename: str, content: str) -> None:
    db.execute(
        "INSERT INTO theme_files (shop_id, filename, content, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (shop_id, filename) DO UPDATE SET content = excluded.content,"
        " updated_at = excluded.updated_at",
        (shop_id, filename, content, datetime.now(UTC).isoformat(timespec="seconds")),
    )


def theme_json_read(db: Database, shop_id: int, filename: str) -> dict[str, Any]:
    text = theme_file_read(db, shop_id, filename)
    if text is None:
        return {}
    parsed = json.loads(LEADING_COMMENT.sub("", text, count=1))
    return parsed if isinstance(parsed, dict) else {}


def _json_write(db: Database, shop_id: int, filename: str, data: dict[str, Any]) -> None:
    comment = "/*\n * Saved by the theme editor (devstore). Edits here show in the storefront.\n */\n"
    theme_file_write(db, shop_id, filename, comment + json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def block_type(extension: str, handle: str) -> str:
    """A stable type for a block devstore places (Shopify appends the extension's uuid)."""
    stable = uuid.uuid5(uuid.NAMESPACE_URL, f"{extension}/{handle}")
    return f"shopify://apps/{extension}/blocks/{handle}/{stable}"


def _names(block: dict[str, Any]) -> tuple[str, str] | None:
    found = APP_BLOCK_TYPE.match(str(block.get("type", "")))
    return (found.group(1), found.group(2)) if found else None


def app_embeds(db: Database, shop_id: int) -> dict[tuple[str, str], bool]:
    """(extension, embed handle) -> on, for the embeds settings_data.json names."""
    blocks = theme_json_read(db, shop_id, SETTINGS_DATA).get("current", {}).get("blocks", {})
    found = {}
    for entry in blocks.values():
        names = _names(entry)
        if names:
            found[names] = not entry.get("disabled", False)
    return found


def app_embed_set(db: Database, shop_id: int, extension: str, handle: str, *, enabled: bool) -> None:
    """Turn an app embed on or off in settings_data.json, as the editor's App embeds toggle does."""
    data = theme_json_read(db, shop_id, SETTINGS_DATA) or {"current": {}}
    blocks = data.setdefault("current", {}).setdefault("blocks", {})
    for entry in blocks.values():
        if _names(entry) == (extension, handle):
            entry["disabled"] = not enabled
            break
    else:
        blocks[f"{handle.replace('-', '_')}_{len(blocks) + 1}"] = {
            "type": block_type(extension, handle),
            "disabled": not enabled,
            "settings": {},
        }
    _json_write(db, shop_id, SETTINGS_DATA, data)


def placed_blocks(db: Database, shop_id: int) -> dict[str, list[tuple[str, str]]]:
    """template -> the (extension, handle) of each app block its JSON places."""
    placed: dict[str, list[tuple[str, str]]] = {}
    for filename in theme_filenames(db, shop_id, ["templates/*.json", "templates/*/*.json"]):
        template = filename.removeprefix("templates/").removesuffix(".json")
        for section in theme_json_read(db, shop_id, filename).get("sections", {}).values():
            for block in section.get("blocks", {}).values():
                names = _names(block)
                if names and not block.get("disabled"):
                    placed.setdefault(template, []).append(names)
    return placed


def app_block_add(  # noqa: PLR0917 - the deep link's parts, in the order Shopify names them
    db: Database, shop_id: int, template: str, extension: str, handle: str, target: str = "newAppsSection"
) -> bool:
    """Add an app block to a JSON template as the editor's deep link does: in a new Apps section
    (`newAppsSection`), or in the template's main section (`mainSection`). False when the template
    has no JSON (a .liquid template takes app blocks only where it says)."""
    filename = f"templates/{template}.json"
    data = theme_json_read(db, shop_id, filename)
    if not data:
        return False
    sections: dict[str, Any] = data.setdefault("sections", {})
    order: list[str] = data.setdefault("order", list(sections))
    block_id = f"{handle.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    block = {"type": block_type(extension, handle), "settings": {}}
    main = next((key for key in order if sections[key].get("type", "").startswith("main-")), None)
    if target == "mainSection" and main is not None:
        section = sections[main]
    else:
        section_id = f"apps_{uuid.uuid4().hex[:6]}"
        section = sections[section_id] = {"type": "apps", "blocks": {}, "block_order": []}
        order.append(section_id)
    section.setdefault("blocks", {})[block_id] = block
    section.setdefault("block_order", []).append(block_id)
    _json_write(db, shop_id, filename, data)
    return True
