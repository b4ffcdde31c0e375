"""Metafields as Shopify treats them: the app-reserved namespace, the app's declared definitions,
and the values each type and definition accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from devstore.config import DevstoreConfig, MetafieldDefinition
from devstore.formats import iso_parse

APP_NAMESPACE = "$app"
# Shopify's bounds: number_integer is a 53-bit integer; number_decimal has up to 13 digits before
# the point and 9 after it.
INTEGER_LIMIT = 9_007_199_254_740_991
DECIMAL = re.compile(r"[-+]?\d{1,13}(?:\.\d{1,9})?")
INTEGER = re.compile(r"[-+]?\d+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ValueProblem:
    """Why Shopify refuses a metafield input: its userError's code and message, and the input
    field it names."""

    code: str
    message: str
    field: str = "value"


def app_namespace(config: DevstoreConfig) -> str:
    return f"app--{config.app_id}"


def namespace_resolve(config: DevstoreConfig, namespace: str | None) -> str:
    """The stored namespace for what the app wrote: `$app` (or none at all) is the app-reserved
    `app--<app id>`, `$app:<sub>` is `app--<app id>--<sub>`; any other namespace is itself."""
    if not namespace or namespace == APP_NAMESPACE:
        return app_namespace(config)
    if namespace.startswith(APP_NAMESPACE + ":"):
        return f"{app_namespace(config)}--{namespace.removeprefix(APP_NAMESPACE + ':')}"
    return namespace


def namespace_forbidden(config: DevstoreConfig, namespace: str) -> bool:
    """Another app's reserved namespace: this app may neither read nor write it."""
    own = app_namespace(config)
    return namespace.startswith("app--") and namespace != own and not namespace.startswith(own + "--")


def definition_find(
    config: DevstoreConfig, owner_type: str, namespace: str, key: str
) -> MetafieldDefinition | None:
    """The app's declared definition for a stored (resolved) namespace and key, if any."""
    for definition in config.app_toml.metafield_definitions:
        if (
            definition.owner_type == owner_type
            and definition.key == key
            and namespace_resolve(config, definition.namespace) == namespace
        ):
            return definition
    return None


def value_problem(
    type_: str, value: str, definition: MetafieldDefinition | None = None
) -> ValueProblem | None:
    """Why Shopify would refuse this value for this type and definition, or None."""
    if definition is not None and type_ != definition.type:
        return ValueProblem(
            "INVALID_TYPE",
            f"Type '{type_}' must be consistent with the definition's type: '{definition.type}'.",
            "type",
        )
    problem = _type_problem(type_, value)
    if problem is None and definition is not None:
        choices = definition.validation("choices")
        if choices is not None and value not in choices:
            listed = json.dumps(list(choices))
            return ValueProblem("INCLUSION", f"Value does not exist in provided choices: {listed}.")
        if type_ in ("number_decimal", "number_integer"):
            problem = _number_bounds_problem(Decimal(value), definition)
        elif type_ in ("single_line_text_field", "multi_line_text_field"):
            problem = _text_bounds_problem(value, definition)
    return problem


def _parses_as_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _parses_as_time(value: str) -> bool:
    try:
        iso_parse(value)
    except ValueError:
        return False
    return True


# What a value of each type must look like, and Shopify's message when it does not.
TYPE_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "json": (_parses_as_json, "Value is invalid JSON."),
    "number_decimal": (lambda v: bool(DECIMAL.fullmatch(v)), "Value must be a decimal."),
    "number_integer": (
        lambda v: bool(INTEGER.fullmatch(v)) and abs(int(v)) <= INTEGER_LIMIT,
        "Value must be an integer.",
    ),
    "boolean": (lambda v: v in ("true", "false"), "Value must be true or false."),
    "date": (lambda v: bool(DATE.fullmatch(v)) and _parses_as_time(v), "Value must be in YYYY-MM-DD format."),
    "date_time": (_parses_as_time, "Value must be in ISO 8601 format."),
    "single_line_text_field": (lambda v: "\n" not in v and "\r" not in v, "Value can't contain line breaks."),
}


def _type_problem(type_: str, value: str) -> ValueProblem | None:
    if value == "":
        return ValueProblem("BLANK", "Value can't be blank.")
    check = TYPE_CHECKS.get("json" if type_.startswith("list.") else type_)
    if check is not None and not check[0](value):
        return ValueProblem("INVALID_VALUE", check[1])
    return None


def _number_bounds_problem(number: Decimal, definition: MetafieldDefinition) -> ValueProblem | None:
    minimum, maximum = definition.validation("min"), definition.validation("max")
    precision = definition.validation("max_precision")
    if minimum is not None and number < _decimal(minimum):
        return ValueProblem("INVALID_VALUE", f"Value has a minimum of {minimum}.")
    if maximum is not None and number > _decimal(maximum):
        return ValueProblem("INVALID_VALUE", f"Value has a maximum of {maximum}.")
    exponent = number.as_tuple().exponent
    if precision is not None and isinstance(exponent, int) and -exponent > int(precision):
        return ValueProblem("INVALID_VALUE", f"Value has a maximum precision of {precision}.")
    return None


def _text_bounds_problem(value: str, definition: MetafieldDefinition) -> ValueProblem | None:
    shortest, longest = definition.validation("min"), definition.validation("max")
    pattern = definition.validation("regex")
    if shortest is not None and len(value) < int(shortest):
        return ValueProblem("TOO_SHORT", f"Value is too short (minimum is {shortest} characters).")
    if longest is not None and len(value) > int(longest):
        return ValueProblem("TOO_LONG", f"Value is too long (maximum is {longest} characters).")
    if pattern is not None and not re.search(str(pattern), value):
        return ValueProblem("INVALID_VALUE", f"Value does not match the regular expression {pattern}.")
    return None


def _decimal(bound: Any) -> Decimal:
    try:
        return Decimal(str(bound))
    except InvalidOperation as error:
        raise ValueError(f"the toml's bound {bound!r} is not a number") from error
