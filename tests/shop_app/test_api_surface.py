"""Every API of the embedded admin demands a session token: walk the URLconf, not a list."""

import json
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from shop_app.models import Shop

RETRY = "X-Shopify-Retry-Invalid-Session-Request"


def api_paths() -> list[str]:
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                # Fill path parameters with a plausible id.
                found.append("/" + re.sub(r"<(?:\w+:)?\w+>", "1", route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_there_are_apis_to_check() -> None:
    assert "/api/shop" in api_paths()


@pytest.mark.parametrize("path", api_paths())
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_api_refuses_a_request_without_a_session_token(path: str, method: str, shop: Shop) -> None:
    response = getattr(Client(), method)(path)

    assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"
    assert response[RETRY] == "1"


def test_the_openapi_schema_lists_every_admin_api_for_a_verified_session(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    response = api_client_for(shop).get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    # Path parameters filled as api_paths() fills them.
    listed = {re.sub(r"\{\w+\}", "1", path) for path in schema["paths"]}
    assert set(api_paths()) - {"/api/schema/"} <= listed
