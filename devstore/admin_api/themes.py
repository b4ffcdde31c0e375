"""The shop's themes in the Admin API (`read_themes`): `theme(id:)`, `themes(roles:)` and a
theme's `files(filenames:)`, text bodies only, read through devstore.themes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from devstore import themes
from devstore.admin_api.connections import list_connection
from devstore.admin_api.nodes import ctx
from devstore.formats import gid, gid_parse

FILES_MOST = 250


def _content_type(filename: str) -> str:
    if filename.endswith(".json"):
        return "application/json"
    if filename.endswith(".liquid"):
        return "text/x-liquid"
    return "text/plain"


def theme_node(shop: dict[str, Any]) -> dict[str, Any]:
    shop_id = int(shop["id"])
    created = shop.get("created_at") or datetime(2024, 1, 1, tzinfo=UTC).isoformat()

    def files(
        info: GraphQLResolveInfo,
        filenames: list[str] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> dict[str, Any]:
        if first > FILES_MOST:
            raise GraphQLError(f"first: at most {FILES_MOST} files a page")
        db = ctx(info).ds.db
        names = themes.theme_filenames(db, shop_id, filenames)
        rows = []
        for position, name in enumerate(names, start=1):
            content = themes.theme_file_read(db, shop_id, name) or ""
            updated = themes.theme_file_updated_at(db, shop_id, name) or created
            rows.append(
                {
                    "id": position,
                    "filename": name,
                    "body": {"__typename": "OnlineStoreThemeFileBodyText", "content": content},
                    "checksumMd5": hashlib.md5(content.encode(), usedforsecurity=False).hexdigest(),
                    "contentType": _content_type(name),
                    "size": len(content.encode()),
                    "createdAt": created,
                    "updatedAt": updated,
                }
            )
        # A name asked for exactly that the theme does not have is a NOT_FOUND, as Shopify answers.
        missing = [
            {"filename": name, "code": "NOT_FOUND"}
            for name in filenames or []
            if "*" not in name and name not in names
        ]
        connection = list_connection(rows, {"first": first, "after": after}, lambda row: row)
        return {**connection, "userErrors": missing}

    return {
        "__typename": "OnlineStoreTheme",
        "id": gid("OnlineStoreTheme", themes.theme_id_of(shop_id)),
        "name": themes.THEME_NAME,
        "role": "MAIN",
        "prefix": "/",
        "processing": False,
        "processingFailed": False,
        "createdAt": created,
        "updatedAt": created,
        "files": files,
    }


def theme_by_id(info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
    try:
        theme_id = gid_parse(id, "OnlineStoreTheme")
    except ValueError:
        raise GraphQLError(f"Invalid id: {id}") from None
    shop = ctx(info).shop
    return theme_node(shop) if theme_id == themes.theme_id_of(int(shop["id"])) else None


def themes_connection(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    roles, names = args.pop("roles", None), args.pop("names", None)
    shop = ctx(info).shop
    found = []
    if (not roles or "MAIN" in roles) and (not names or themes.THEME_NAME in names):
        found.append({"id": themes.theme_id_of(int(shop["id"]))})
    return list_connection(found, args, lambda row: theme_node(shop))
