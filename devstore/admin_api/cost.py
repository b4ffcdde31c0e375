"""Shopify's calculated query cost.

Scalars and enums cost 0, objects 1, a connection 2 plus `first` (or `last`) times the
cost of one node, a mutation field 10. The requested cost is worked out from the query
before it runs; the actual cost from the data it returned (real page sizes).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

MUTATION_COST = 10
_MISSING = object()


class QueryCost:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o
            for o in operations
            if operation_name is None or (o.name is not None and o.name.value == operation_name)
        ]
        self.operation = chosen[0] if chosen else None

    @property
    def is_mutation(self) -> bool:
        return self.operation is not None and self.operation.operation == OperationType.MUTATION

    def requested(self) -> int:
        return self._root(None)

    def actual(self, data: dict[str, Any] | None) -> int:
        return self._root(data if data is not None else {})

    def _root(self, data: Any) -> int:
        if self.operation is None:
            return 0
        if self.is_mutation:
            fields = [
                s
                for s in self.operation.selection_set.selections
                if isinstance(s, FieldNode) and not s.name.value.startswith("__")
            ]
            return MUTATION_COST * len(fields)
        root = self.schema.query_type
        return self._selection(self.operation.selection_set, root, data)

    def _selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, data)
            elif isinstance(selection, InlineFragmentNode):
                target = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += self._selection(selection.selection_set, target, data)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._selection(fragment.selection_set, target, data)
        return total

    def _field(self, node: FieldNode, parent: Any, data: Any) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 0
        named = get_named_type(fields[name].type)
        if is_leaf_type(named):
            return 0
        key = node.alias.value if node.alias else name
        value: Any = _MISSING
        if data is not None:
            value = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
            if value is None or value is _MISSING:
                return 0
        if named.name.endswith("Connection"):
            return self._connection(node, named, value)
        if isinstance(value, list):
            return 1 + sum(self._selection(node.selection_set, named, item) for item in value)
        return 1 + self._selection(node.selection_set, named, None if value is _MISSING else value)

    def _connection(self, node: FieldNode, connection_type: Any, value: Any) -> int:
        node_type = connection_type.fields["nodes"].type
        node_type = get_named_type(node_type)
        if value is _MISSING:
            size = self._int_arg(node, "first") or self._int_arg(node, "last") or 0
            return 2 + size * self._per_node(node.selection_set, node_type, None)
        items = self._actual_nodes(node.selection_set, value)
        return 2 + sum(self._per_node(node.selection_set, node_type, item) for item in items)

    def _per_node(self, selection_set: SelectionSetNode | None, node_type: Any, item: Any) -> int:
        """Cost of one node: 1 for the object plus its own selections (edges/node merged)."""
        cost = 0
        for field in self._flatten(selection_set):
            name = field.name.value
            if name == "nodes":
                cost = max(cost, 1 + self._selection(field.selection_set, node_type, item))
            elif name == "edges":
                for inner in self._flatten(field.selection_set):
                    if inner.name.value == "node":
                        cost = max(cost, 1 + self._selection(inner.selection_set, node_type, item))
        return cost

    def _actual_nodes(self, selection_set: SelectionSetNode | None, value: Any) -> list[Any]:
        for field in self._flatten(selection_set):
            key = field.alias.value if field.alias else field.name.value
            if field.name.value == "nodes" and isinstance(value.get(key), list):
                return list(value[key])
            if field.name.value == "edges" and isinstance(value.get(key), list):
                found = []
                for edge in value[key]:
                    node_value = None
                    for inner in self._flatten(field.selection_set):
                        if inner.name.value == "node":
                            inner_key = inner.alias.value if inner.alias else "node"
                            node_value = (edge or {}).get(inner_key)
                    found.append(node_value if node_value is not None else {})
                return found
        return []

    def _flatten(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        if selection_set is None:
            return []
        fields: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                fields.extend(self._flatten(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    fields.extend(self._flatten(fragment.selection_set))
        return fields

    def _int_arg(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                found = self.variables.get(argument.value.name.value)
                return int(found) if found is not None else None
        return None
