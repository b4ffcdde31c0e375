"""The app's theme app extension, read the way Shopify reads `extensions/<name>/`.

blocks/*.liquid each end with a `{% schema %}` JSON; target "section" blocks are app blocks
placed in sections, "head"/"body" blocks are app embeds. assets/ are served from a CDN-like
path; snippets/ are what blocks `render`; locales/*.json feed the `t` filter in the shopper's
language, falling back to the default locale (`en.default.json`) key by key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)
STYLESHEET = re.compile(r"{%-?\s*stylesheet\s*-?%}(.*?){%-?\s*endstylesheet\s*-?%}", re.S)
# python-liquid reads these words as keywords even after a dot; Shopify's Liquid does not.
# `block.settings.limit` becomes `block.settings["limit"]`, which both read the same way.
KEYWORD_PROPERTY = re.compile(r"\.(limit|offset|reversed|cols|with|as|in|and|or|contains)\b")
JAVASCRIPT = re.compile(r"{%-?\s*javascript\s*-?%}(.*?){%-?\s*endjavascript\s*-?%}", re.S)


@dataclass(frozen=True)
class AppBlock:
    extension: str
    handle: str
    source: str  # Liquid without the schema
    schema: dict[str, Any]

    @property
    def target(self) -> str:
        return str(self.schema.get("target", "section"))

    @property
    def assets(self) -> list[str]:
        """The schema's `stylesheet` and `javascript`: Shopify loads each once per page."""
        return [str(self.schema[key]) for key in ("stylesheet", "javascript") if self.schema.get(key)]

    @property
    def is_embed(self) -> bool:
        return self.target in ("head", "body", "compliance_head")

    def defaults(self) -> dict[str, Any]:
        return {s["id"]: s.get("default") for s in self.schema.get("settings", []) if "id" in s}

    def shown_on(self, template: str) -> bool:
        enabled = self.schema.get("enabled_on", {}).get("templates")
        disabled = self.schema.get("disabled_on", {}).get("templates", [])
        if enabled and template not in enabled and "*" not in enabled:
            return False
        return template not in disabled


@dataclass
class Extension:
    name: str
    path: Path
    blocks: list[AppBlock] = field(default_factory=list)
    translations: dict[str, Any] = field(default_factory=dict)  # the default locale's
    locales: dict[str, dict[str, Any]] = field(default_factory=dict)  # by language: "ja"

    def translate(self, key: str, locale: str = "") -> str:
        """The key's text in `locale` (or its language), else the default locale's, else the key."""
        for tree in (
            self.locales.get(locale),
            self.locales.get(locale.split("-", maxsplit=1)[0]),
            self.translations,
        ):
            node: Any = tree
            for part in key.split("."):
                if not isinstance(node, dict) or part not in node:
                    node = None
                    break
                node = node[part]
            if node is not None and not isinstance(node, dict):
                return str(node)
        return key


def block_parse(extension: str, handle: str, text: str) -> AppBlock:
    found = SCHEMA.search(text)
    schema = json.loads(found.group(1)) if found else {}
    source = SCHEMA.sub("", text)
    # Shopify bundles {% stylesheet %}/{% javascript %}; inline them where they stand.
    source = STYLESHEET.sub(lambda m: f"<style>{m.group(1)}</style>", source)
    source = JAVASCRIPT.sub(lambda m: f"<script>{m.group(1)}</script>", source)
    source = KEYWORD_PROPERTY.sub(lambda m: f'["{m.group(1)}"]', source)
    return AppBlock(extension=extension, handle=handle, source=source, schema=schema)


def extensions_load(root: Path) -> list[Extension]:
    """Every theme extension under root (a missing directory means none)."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(p for p in root.iterdir() if (p / "blocks").is_dir()):
        extension = Extension(name=path.name, path=path)
        for block in sorted((path / "blocks").glob("*.liquid")):
            extension.blocks.append(block_parse(path.name, block.stem, block.read_text()))
        for locale in sorted((path / "locales").glob("*.json")):
            if locale.name.endswith(".schema.json"):
                continue  # the theme editor's strings, not the shopper's
            language, _, default = locale.stem.partition(".")
            extension.locales[language] = json.loads(locale.read_text())
            if default == "default" or (language == "en" and not extension.translations):
                extension.translations = extension.locales[language]
        found.append(extension)
    return found
