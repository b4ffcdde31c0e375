"""Bulk query operations: run in a background thread, answered as JSONL.

As Shopify documents it: each node of the top-level connection is one line; nodes of
nested connections are lines of their own with `__parentId` set to their parent's id,
after the parent; `edges`/`node` wrappers disappear.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, execute, get_named_type, parse, validate

from devstore import auth
from devstore.admin_api import nodes
from devstore.admin_api.queries import query_root
from devstore.admin_api.schema import admin_schema
from devstore.context import Devstore
from devstore.db import Row
from devstore.formats import gid, gid_parse, now_iso

log = logging.getLogger("devstore.bulk")


def _error(message: str, code: str = "INVALID") -> dict[str, Any]:
    return {"field": ["query"], "message": message, "code": code}


def bulk_operation_start(ds: Devstore, shop: Row, query: str) -> tuple[Row | None, list[dict[str, Any]]]:
    running = ds.db.one(
        "SELECT id FROM bulk_operations WHERE shop_id = ? AND status IN ('CREATED', 'RUNNING')", (shop["id"],)
    )
    if running is not None:
        return None, [
            _error(
                "A bulk query operation for this app and shop is already in "
                f"progress: {gid('BulkOperation', running['id'])}.",
                "OPERATION_IN_PROGRESS",
            )
        ]
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [_error(f"Invalid bulk query: {exc.message}")]
    schema = admin_schema()
    problems = validate(schema, document)
    if problems:
        return None, [_error(f"Invalid bulk query: {problems[0].message}")]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    top = (
        [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)] if operations else []
    )
    query_type = schema.query_type
    assert query_type is not None
    if len(top) != 1 or not get_named_type(query_type.fields[top[0].name.value].type).name.endswith(
        "Connection"
    ):
        return None, [_error("Bulk queries must contain exactly one top-level connection.")]
    operation_id = ds.db.insert(
        "bulk_operations",
        {"shop_id": shop["id"], "query": query, "status": "CREATED", "created_at": now_iso()},
    )
    # Read the row before the worker starts: the answer shows the operation as CREATED.
    row = ds.db.one("SELECT * FROM bulk_operations WHERE id = ?", (operation_id,))
    _run_in_background(ds, shop, operation_id, query)
    return row, []


def _run_in_background(ds: Devstore, shop: Row, operation_id: int, query: str) -> None:
    thread = threading.Thread(
        target=_run, args=(ds, shop, operation_id, query), name=f"devstore-bulk-{operation_id}", daemon=True
    )
    thread.start()


def bulk_operations_resume(ds: Devstore) -> int:
    """Run again the operations a stopped devstore left unfinished: Shopify's bulk operations do not
    end when a server restarts, and an app polling one would otherwise wait for ever."""
    unfinished = ds.db.all(
        "SELECT id, shop_id, query FROM bulk_operations WHERE status IN ('CREATED', 'RUNNING')"
    )
    for row in unfinished:
        shop = ds.db.one("SELECT * FROM shops WHERE id = ?", (row["shop_id"],))
        if shop is not None:
            _run_in_background(ds, shop, row["id"], row["query"])
    return len(unfinished)


def bulk_operation_cancel(ds: Devstore, shop: Row, operation_gid: str) -> Row | None:
    try:
        operation_id = gid_parse(operation_gid, "BulkOperation")
    except ValueError:
        return None
    ds.db.execute(
        "UPDATE bulk_operations SET status = 'CANCELED', completed_at = ?"
        " WHERE shop_id = ? AND id = ? AND status IN ('CREATED', 'RUNNING')",
        (now_iso(), shop["id"], operation_id),
    )
    return ds.db.one("SELECT * FROM bulk_operations WHERE shop_id = ? AND id = ?", (shop["id"], operation_id))


def _run(ds: Devstore, shop: Row, operation_id: int, query: str) -> None:
    # CREATED, or RUNNING when a restarted devstore resumes it (bulk_operations_resume).
    ds.db.execute(
        "UPDATE bulk_operations SET status = 'RUNNING' WHERE id = ? AND status = 'CREATED'", (operation_id,)
    )
    try:
        result = execute(
            admin_schema(),
            parse(query),
            root_value=query_root(),
            context_value=nodes.RequestContext(ds=ds, shop=shop, bulk=True),
        )
        if result.errors:  # type: ignore[union-attr]
            raise RuntimeError(result.errors[0].message)  # type: ignore[union-attr]
        data = result.data or {}  # type: ignore[union-attr]
        lines, roots = jsonl_lines(next(iter(data.values())))
        text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        ds.db.execute(
            "UPDATE bulk_operations SET status = 'COMPLETED', object_count = ?,"
            " root_object_count = ?, result = ?, completed_at = ? WHERE id = ?"
            " AND status = 'RUNNING'",
            (len(lines), roots, text, now_iso(), operation_id),
        )
    except Exception:  # a failed bulk operation is reported, never raised
        log.exception("bulk operation %s failed", operation_id)
        ds.db.execute(
            "UPDATE bulk_operations SET status = 'FAILED', error_code ="
            " 'INTERNAL_SERVER_ERROR', completed_at = ? WHERE id = ?",
            (now_iso(), operation_id),
        )
    row = ds.db.one("SELECT * FROM bulk_operations WHERE id = ?", (operation_id,))
    if row is not None and auth.installation_is_active(ds.db, shop["id"]):
        ds.webhooks.enqueue(
            shop,
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": gid("BulkOperation", operation_id),
                "completed_at": row["completed_at"],
                "created_at": row["created_at"],
                "error_code": (row["error_code"] or "").lower() or None,
                "status": row["status"].lower(),
                "type": "query",
            },
        )


def _connection_nodes(value: Any) -> list[Any] | None:
    """The nodes of a connection result, or None if `value` is not a connection."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("edges"), list):
        return [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
    if isinstance(value.get("nodes"), list) and set(value) <= {"nodes", "pageInfo"}:
        return list(value["nodes"])
    return None


def _split(obj: dict[str, Any]) -> tuple[dict[str, Any], list[list[Any]]]:
    """Separate an object's plain fields from its nested connections (at any depth)."""
    clean: dict[str, Any] = {}
    children: list[list[Any]] = []
    for key, value in obj.items():
        found = _connection_nodes(value)
        if found is not None:
            children.append(found)
        elif isinstance(value, dict):
            inner, grand = _split(value)
            clean[key] = inner
            children.extend(grand)
        else:
            clean[key] = value
    return clean, children


def jsonl_lines(connection: Any) -> tuple[list[dict[str, Any]], int]:
    """Flatten a top-level connection result into bulk JSONL lines; returns (lines, roots)."""
    lines: list[dict[str, Any]] = []
    roots = _connection_nodes(connection) or []

    def emit(node: Any, parent_id: str | None) -> None:
        if not isinstance(node, dict):
            return
        clean, children = _split(node)
        if parent_id is not None:
            clean["__parentId"] = parent_id
        lines.append(clean)
        for child_nodes in children:
            for child in child_nodes:
                emit(child, node.get("id"))

    for root in roots:
        emit(root, None)
    return lines, len(roots)
