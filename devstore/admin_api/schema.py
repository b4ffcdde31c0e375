"""The executable schema: SDL plus Shopify's scalar spellings and abstract type resolution."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, is_abstract_type
from graphql.type import GraphQLScalarType


def _resolve_type(value: Any, *_: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


def _as_string(value: Any) -> str | None:
    return None if value is None else str(value)


@cache
def admin_schema() -> GraphQLSchema:
    schema = build_schema((Path(__file__).parent / "schema.graphql").read_text())
    for named in schema.type_map.values():
        if is_abstract_type(named):
            named.resolve_type = _resolve_type
    # Shopify serializes UnsignedInt64 as a string ("42"); Decimal and Money likewise.
    for name in ("UnsignedInt64", "Decimal", "Money"):
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        scalar.coerce_output_value = _as_string
    return schema
