"""Shopify's published Admin API schema (tests/fixtures/shopify/), built for validating against."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

SHOPIFY_API_VERSION = "2026-10"
ADMIN_SCHEMA_PATH = Path(__file__).parent / "fixtures" / "shopify" / f"admin_{SHOPIFY_API_VERSION}.json.gz"


@cache
def shopify_admin_schema() -> GraphQLSchema:
    """Shopify's Admin API schema for our version, ready for `graphql.validate`."""
    with gzip.open(ADMIN_SCHEMA_PATH, "rt", encoding="utf-8") as file:
        introspection = json.load(file)["data"]
    schema = build_client_schema(introspection)
    # Shopify marks some interface fields deprecated on the implementations only, which
    # graphql-core's schema validation rejects. We validate documents against Shopify's schema,
    # not Shopify's schema itself, so mark it as already validated.
    schema._validation_errors = []
    return schema
