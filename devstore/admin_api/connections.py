"""Relay connections as Shopify serves them: opaque cursors, first/after/last/before.

Top-level connections page through SQL with keyset pagination on (sort key, id), so a
cursor stays valid while rows are added. Nested connections (a product's variants, an
order's line items) are short lists paged in memory.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from devstore.db import Database, Row
from devstore.formats import gid_parse, iso, iso_parse

MAX_PAGE = 250

NodeBuilder = Callable[[Row], dict[str, Any]]


def cursor_encode(values: Sequence[Any]) -> str:
    raw = json.dumps({"last_id": values[-1], "last_value": values[0]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return data["last_value"], int(data["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from exc


def page_size(args: dict[str, Any], *, bulk: bool) -> tuple[int | None, bool]:
    """(limit, from_end). In a bulk operation connections are unbounded."""
    first, last = args.get("first"), args.get("last")
    if bulk:
        return None, False
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None and last is not None:
        raise GraphQLError("providing both first and last is not supported")
    size = first if first is not None else last
    assert size is not None
    if size < 0:
        raise GraphQLError("first and last must be non-negative")
    if size > MAX_PAGE:
        raise GraphQLError(f"The first and last arguments must not exceed {MAX_PAGE}")
    return size, last is not None


def _build(
    rows: list[Row], sort_field: str, build: NodeBuilder, has_next: bool, has_previous: bool
) -> dict[str, Any]:
    edges = []
    for row in rows:
        edges.append(
            {
                "cursor": cursor_encode([row["_sort"] if sort_field else row["id"], row["id"]]),
                "node": build(row),
            }
        )
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


@dataclass
class SqlFilter:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def sql_connection(
    db: Database,
    *,
    table: str,
    where: SqlFilter,
    sort_expr: str,
    args: dict[str, Any],
    build: NodeBuilder,
    bulk: bool = False,
) -> dict[str, Any]:
    """Keyset-paginate `table` rows matching `where`, ordered by (sort_expr, id)."""
    limit, from_end = page_size(args, bulk=bulk)
    reverse = bool(args.get("reverse"))
    ascending = not reverse
    if from_end:
        ascending = not ascending
    key = f"({sort_expr}, id)"
    base = SqlFilter(list(where.clauses), list(where.params))
    after, before = args.get("after"), args.get("before")
    # In reading order, `after` means later and `before` earlier; reverse flips both.
    forward_op = ">" if not reverse else "<"
    backward_op = "<" if not reverse else ">"
    if after:
        base.add(f"{key} {forward_op} (?, ?)", *cursor_decode(after))
    if before:
        base.add(f"{key} {backward_op} (?, ?)", *cursor_decode(before))
    direction = "ASC" if ascending else "DESC"
    sql = (
        f"SELECT *, {sort_expr} AS _sort FROM {table} WHERE {base.sql()}"  # noqa: S608 - identifiers are code constants; values are bound parameters
        f" ORDER BY {sort_expr} {direction}, id {direction}"
    )
    params = list(base.params)
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit + 1)
    rows = db.all(sql, params)
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    if from_end:
        rows.reverse()
    has_next, has_previous = (more, False) if not from_end else (False, more)
    if rows:
        # The other direction: is anything beyond the page edge (within the filter)?
        first_row, last_row = rows[0], rows[-1]
        if not from_end:
            has_previous = _exists(db, table, where, key, backward_op, (first_row["_sort"], first_row["id"]))
        else:
            has_next = _exists(db, table, where, key, forward_op, (last_row["_sort"], last_row["id"]))
    return _build(rows, sort_expr, build, has_next, has_previous)


def _exists(  # noqa: PLR0917
    db: Database,
    table: str,
    where: SqlFilter,
    key: str,
    op: str,
    edge: tuple[Any, int],
) -> bool:
    sql = f"SELECT 1 FROM {table} WHERE {where.sql()} AND {key} {op} (?, ?) LIMIT 1"  # noqa: S608 - identifiers are code constants; values are bound parameters
    return db.scalar(sql, [*where.params, *edge]) is not None


def list_connection(
    rows: list[Row], args: dict[str, Any], build: NodeBuilder, *, bulk: bool = False
) -> dict[str, Any]:
    """Page an in-memory list (already in reading order) by id cursors."""
    limit, from_end = page_size(args, bulk=bulk) if not bulk else (None, False)
    items = list(reversed(rows)) if args.get("reverse") else list(rows)
    positions = {row["id"]: i for i, row in enumerate(items)}
    start, stop = 0, len(items)
    if args.get("after"):
        _, after_id = cursor_decode(args["after"])
        start = positions.get(after_id, -1) + 1
    if args.get("before"):
        _, before_id = cursor_decode(args["before"])
        stop = positions.get(before_id, len(items))
    window = items[start:stop]
    page = window
    if limit is not None:
        page = window[-limit:] if from_end else window[:limit]
        if limit == 0:
            page = []
    has_next = (stop < len(items)) or (not from_end and len(window) > len(page))
    has_previous = start > 0 or (from_end and len(window) > len(page))
    for row in page:
        row.setdefault("_sort", row["id"])
    return _build(page, "", build, has_next, has_previous)


# ------------------------------------------------------------ search syntax

_TERM = re.compile(
    r"""(?P<neg>-)?(?:(?P<field>[a-z_]+):)?(?P<op>>=|<=|>|<|=)?"""
    r"""(?P<value>"[^"]*"|'[^']*'|\S+)"""
)


@dataclass(frozen=True)
class SearchField:
    """How one `field:value` of Shopify's search syntax maps onto SQL."""

    expr: str
    kind: str = "text"  # text | date | number | tags | enum | id


def search_filter(
    query: str | None, fields: dict[str, SearchField], default_text: Sequence[str], where: SqlFilter
) -> None:
    """Apply Shopify search syntax (field:value, comparisons, -negation, quotes)."""
    if not query:
        return
    for match in _TERM.finditer(query):
        value = match.group("value").strip("'\"")
        name, op = match.group("field"), match.group("op") or "="
        negate = bool(match.group("neg"))
        if not name and value.upper() in ("AND", "OR"):
            continue  # OR is read as AND: narrower, never wider, than Shopify
        if not name:
            like = " OR ".join(f"{expr} LIKE ?" for expr in default_text)
            clause = f"({like})"
            params: list[Any] = [f"%{value}%"] * len(default_text)
        else:
            spec = fields.get(name)
            if spec is None:
                continue  # Shopify ignores unknown fields too
            clause, params = _field_clause(spec, op, value)
        where.add(f"NOT {clause}" if negate else clause, *params)


def _field_clause(spec: SearchField, op: str, value: str) -> tuple[str, list[Any]]:  # noqa: PLR0911 - one return per case reads plainest
    sql_op = "=" if op == "=" else op
    if spec.kind == "date":
        try:
            stamp = iso(iso_parse(value))
        except ValueError as exc:
            raise GraphQLError(f"Invalid date in search query: {value}") from exc
        return f"{spec.expr} {sql_op} ?", [stamp]
    if spec.kind == "number":
        return f"CAST({spec.expr} AS REAL) {sql_op} ?", [float(value)]
    if spec.kind == "id":
        return f"{spec.expr} {sql_op} ?", [gid_parse(value)]
    if spec.kind == "tags":
        return f"(', ' || {spec.expr} || ', ') LIKE ?", [f"%, {value}, %"]
    if spec.kind == "enum":
        # A comma-separated list matches any of its values: status:active,draft
        choices = [v.strip().upper() for v in value.split(",") if v.strip()]
        return f"upper({spec.expr}) IN ({', '.join('?' * len(choices))})", list(choices)
    if value.endswith("*"):
        return f"{spec.expr} LIKE ?", [value[:-1] + "%"]
    return f"lower({spec.expr}) = lower(?)", [value]
