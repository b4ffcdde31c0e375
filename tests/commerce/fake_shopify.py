"""Shopify's Admin GraphQL API in memory, for reconciliation's tests (no network).

It holds customers, orders, products and collections as GraphQL nodes and answers a query as
Shopify would: checked against devstore's copy of the schema, refused over Shopify's
requested-cost limit (devstore's cost calculator), filtered by `updated_at:>=`, sorted by
UPDATED_AT, paged by `first`/`after`, nested connections included, and with only the fields the
query selects, so that a field the query forgot comes back missing, as from Shopify.
"""

import re
from typing import Any

from graphql import (
    FieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    validate,
    value_from_ast_untyped,
)

from devstore.admin_api.cost import QueryCost
from devstore.admin_api.schema import admin_schema

# Shopify refuses a single query whose requested cost is over this.
MAX_QUERY_COST = 1000

_SINCE = re.compile(r"updated_at:(>=|>)'([^']+)'")


class QueryRefused(Exception):
    """What Shopify answers with errors (MAX_COST_EXCEEDED, an invalid query, ...)."""


def _page(items: list[dict[str, Any]], arguments: dict[str, Any]) -> dict[str, Any]:
    start = int(arguments.get("after") or 0)
    first = arguments.get("first")
    stop = len(items) if first is None else start + int(first)
    page = items[start:stop]
    has_next = stop < len(items)
    return {
        "nodes": page,
        "edges": [{"node": item, "cursor": str(start + index + 1)} for index, item in enumerate(page)],
        "pageInfo": {"hasNextPage": has_next, "endCursor": str(start + len(page)) if page else None},
    }


def _arguments(field: FieldNode, variables: dict[str, Any]) -> dict[str, Any]:
    return {
        argument.name.value: value_from_ast_untyped(argument.value, variables)
        for argument in field.arguments or ()
    }


def _project(value: Any, selection_set: SelectionSetNode | None, variables: dict[str, Any]) -> Any:
    """Only the selected fields; a connection held as {"nodes": [...]} is paged as asked."""
    if selection_set is None or value is None:
        return value
    if isinstance(value, list):
        return [_project(item, selection_set, variables) for item in value]
    answer: dict[str, Any] = {}
    for selection in selection_set.selections:
        assert isinstance(selection, FieldNode), "the fake reads plain fields only"
        key = selection.alias.value if selection.alias else selection.name.value
        raw = value.get(selection.name.value)
        if isinstance(raw, dict) and isinstance(raw.get("nodes"), list) and "pageInfo" not in raw:
            raw = _page(raw["nodes"], _arguments(selection, variables))
        answer[key] = _project(raw, selection.selection_set, variables)
    return answer


class FakeShopify:
    def __init__(
        self,
        customers: list[dict[str, Any]] | None = None,
        orders: list[dict[str, Any]] | None = None,
        products: list[dict[str, Any]] | None = None,
        collections: list[dict[str, Any]] | None = None,
    ) -> None:
        self.store: dict[str, list[dict[str, Any]]] = {
            "customers": list(customers or []),
            "orders": list(orders or []),
            "products": list(products or []),
            "collections": list(collections or []),
        }
        # (root field, its arguments) per field asked for, and the requested cost per query.
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.costs: list[int] = []

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = dict(variables or {})
        schema = admin_schema()
        document = parse(query)
        problems = validate(schema, document)
        if problems:
            raise QueryRefused("; ".join(problem.message for problem in problems))
        cost = QueryCost(schema, document, variables, None).requested()
        self.costs.append(cost)
        if cost > MAX_QUERY_COST:
            raise QueryRefused(f"MAX_COST_EXCEEDED: query cost is {cost}, over {MAX_QUERY_COST}")
        [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        data: dict[str, Any] = {}
        for field in operation.selection_set.selections:
            assert isinstance(field, FieldNode)
            name = field.name.value
            arguments = _arguments(field, variables)
            self.calls.append((name, arguments))
            data[field.alias.value if field.alias else name] = _project(
                self._resolve(name, arguments), field.selection_set, variables
            )
        return data

    def calls_to(self, name: str) -> list[dict[str, Any]]:
        return [arguments for called, arguments in self.calls if called == name]

    def _resolve(self, name: str, arguments: dict[str, Any]) -> Any:
        if name in self.store:
            items = self.store[name]
            match = _SINCE.search(arguments.get("query") or "")
            if match:
                operator, since = match.groups()
                items = [
                    item
                    for item in items
                    if (item["updatedAt"] >= since if operator == ">=" else item["updatedAt"] > since)
                ]
            if arguments.get("sortKey") == "UPDATED_AT":
                items = sorted(items, key=lambda item: (item["updatedAt"], item["id"]))
            return _page(items, arguments)
        if f"{name}s" in self.store:
            found = [item for item in self.store[f"{name}s"] if item["id"] == arguments["id"]]
            return found[0] if found else None
        raise QueryRefused(f"the fake does not answer {name}")
