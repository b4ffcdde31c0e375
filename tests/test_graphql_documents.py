"""Every GraphQL document the app sends is valid against Shopify's published Admin API schema.

The documents are found, not listed, so the test keeps up as code moves between apps: every module
of every Django app in the project (a top-level package with an `apps.py`) is imported, and each
module-level string, or string in a module-level dict, list or tuple (the bulk queries), that is a
GraphQL operation is validated against Shopify's schema for our API version.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse, validate

from tests.shopify_schema import SHOPIFY_API_VERSION, shopify_admin_schema

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What an operation starts with: `query Name($var: T) {`, `mutation {`, or a bare `{ field`.
# A Python format string such as "{shop}/admin" or JSON such as '{"a": 1}' does not.
OPERATION_START = re.compile(r"^(?:(?:query|mutation|subscription)\b[^{]*)?\{\s+[_A-Za-z]")


@dataclass(frozen=True)
class SentDocument:
    # Where it is defined, and where it is imported: "commerce.backfill.RUN_BULK_QUERY".
    places: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return " = ".join(self.places)


def app_packages() -> list[str]:
    return sorted(
        path.name
        for path in PROJECT_ROOT.iterdir()
        if (path / "apps.py").is_file() and (path / "__init__.py").is_file()
    )


def app_module_names() -> list[str]:
    names = []
    for package in app_packages():
        names.append(package)
        path = [str(PROJECT_ROOT / package)]
        for module in pkgutil.walk_packages(path, prefix=f"{package}."):
            parts = module.name.split(".")
            if "migrations" in parts or parts[-1] == "__main__":
                continue
            names.append(module.name)
    return names


def module_strings(name: str, value: object) -> Iterator[tuple[str, str]]:
    """The strings a module-level value holds: itself, or one level of a dict, list or tuple."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield f"{name}[{key}]", item
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield f"{name}[{index}]", item


def as_operation(text: str) -> DocumentNode | GraphQLError | None:
    """The parsed document if `text` is a GraphQL operation; the syntax error if it looks like
    one and does not parse; None if it is some other string."""
    stripped = text.strip()
    try:
        document = parse(stripped)
    except GraphQLError as error:
        return error if OPERATION_START.match(stripped) else None
    if any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        return document
    return None


def sent_documents() -> list[SentDocument]:
    # A constant imported into another module is the same document, checked once.
    places: dict[str, list[str]] = {}
    for module_name in app_module_names():
        module = importlib.import_module(module_name)
        for attribute, value in vars(module).items():
            if attribute.startswith("__"):
                continue
            for name, text in module_strings(attribute, value):
                if as_operation(text) is not None:
                    places.setdefault(text, []).append(f"{module_name}.{name}")
    return [SentDocument(tuple(where), text) for text, where in places.items()]


def test_the_schema_is_for_the_api_version_the_app_uses() -> None:
    assert settings.SHOPIFY_API_VERSION == SHOPIFY_API_VERSION


def test_every_document_the_app_sends_is_valid_against_shopifys_schema() -> None:
    # Given every GraphQL operation defined in the app's modules
    documents = sent_documents()
    # (enough of them that the search cannot pass by finding nothing)
    assert len(documents) >= 5, f"found only {[str(d) for d in documents]} in {app_packages()}"

    # When each is validated against Shopify's published schema
    problems = []
    for document in documents:
        parsed = as_operation(document.text)
        if isinstance(parsed, GraphQLError):
            problems.append(f"{document}: {parsed.message}")
            continue
        assert parsed is not None
        problems.extend(f"{document}: {error.message}" for error in validate(shopify_admin_schema(), parsed))

    # Then Shopify would accept every one
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("package", app_packages())
def test_no_operation_is_written_inside_a_function(package: str) -> None:
    """Operations are module-level constants, which the test above finds and validates; one
    written inside a function body would be sent unchecked."""
    hidden = []
    for source in sorted((PROJECT_ROOT / package).rglob("*.py")):
        if "migrations" in source.parts:
            continue
        tree = ast.parse(source.read_text(), filename=str(source))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and OPERATION_START.match(node.value.strip())
                ):
                    hidden.append(f"{source.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not hidden, f"GraphQL operations inside functions: {hidden}"
