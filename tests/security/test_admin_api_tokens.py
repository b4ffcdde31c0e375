"""Every admin API, listed from the URLconf, refuses a session token that is not this app's for
this shop: another shop's token sees none of the first shop's data and changes none of it; an
expired token, a token for another app's audience, or one signed with another app's secret is
refused outright."""

import json
import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from shop_app.models import Shop
from tests.conftest import client_bearing, make_session_token
from tests.security.conftest import CANARY, SeededShop, rows_of

METHODS = ("get", "post", "put", "patch", "delete")
# A body for the routes that change something, valid enough to reach the object it names.
BODIES = {
    "/api/loyalty/rewards/<int:reward_id>": {"active": False, "name": "Taken over"},
    "/api/loyalty/customers/<int:customer_id>/adjustments": {"points": 500, "reason": "taken over"},
    "/api/newsletters/topics/<int:topic_id>": {"handle": "taken-over", "names": {"en": "Taken over"}},
}


@dataclass(frozen=True)
class AdminRoute:
    route: str
    method: str

    def path(self, ids: dict[str, int]) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(ids[match.group(1)]), self.route)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.route}"


def admin_routes() -> list[AdminRoute]:
    """Each method of each API view (DRF) in the URLconf: the admin's APIs and the schema."""
    found: list[AdminRoute] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and issubclass(view_class, APIView):
                found.extend(
                    AdminRoute("/" + route, method) for method in METHODS if hasattr(view_class, method)
                )

    walk(get_resolver().url_patterns, "")
    return sorted(set(found), key=str)


ROUTES = admin_routes()


def test_the_routes_are_read_from_the_urlconf() -> None:
    listed = {str(route) for route in ROUTES}
    assert {"GET /api/shop", "GET /api/schema/", "PATCH /api/loyalty/rewards/<int:reward_id>"} <= listed
    assert len(ROUTES) >= 35


def send(route: AdminRoute, token: str, ids: dict[str, int]):  # type: ignore[no-untyped-def]
    client = client_bearing(token)
    body = BODIES.get(route.route, {})
    call = getattr(client, route.method)
    if route.method in ("get", "delete"):
        return call(route.path(ids), HTTP_ACCEPT="application/json")
    return call(route.path(ids), data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_another_shops_token_sees_and_changes_nothing_of_the_first_shop(
    route: AdminRoute, seeded_shop: SeededShop, other_shop: Shop
) -> None:
    # Given the first shop's data, and a valid session token of the second shop
    before = rows_of(seeded_shop.shop)
    token = make_session_token(other_shop.domain)

    # When the second shop calls the route with the first shop's ids
    response = send(route, token, seeded_shop.ids)

    # Then it answers about the second shop only (a 404 for the first shop's objects), and the
    # first shop's rows are as they were
    assert response.status_code < 500, f"{route} answered {response.status_code}"
    answer = response.content.decode(errors="replace").lower()
    assert CANARY not in answer, f"{route} leaked the first shop's data: {answer[:300]}"
    assert seeded_shop.shop.domain not in answer
    # Our own row ids name the first shop's objects; a Shopify customer id names a customer of
    # whichever shop asks, so there the second shop reads (or adjusts) its own customer.
    if "<" in route.route and "customer_id" not in route.route:
        assert response.status_code in (404, 400), f"{route} answered {response.status_code}"
    assert rows_of(seeded_shop.shop) == before


REFUSED_TOKENS = {
    "expired": {"lifetime": -60},
    "another app's audience": {"aud": "another-apps-client-id"},
    "signed with another secret": {"secret": "another-apps-secret"},
    "another app": {"aud": "another-apps-client-id", "secret": "another-apps-secret"},
    "no expiry": {"without": ["exp"]},
}


@pytest.mark.parametrize("kind", REFUSED_TOKENS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_token_that_is_not_this_apps_for_now_is_refused(
    route: AdminRoute, kind: str, seeded_shop: SeededShop
) -> None:
    before = rows_of(seeded_shop.shop)
    token = make_session_token(seeded_shop.shop.domain, **REFUSED_TOKENS[kind])  # type: ignore[arg-type]

    response = send(route, token, seeded_shop.ids)

    assert response.status_code == 401, f"{route} with {kind} token answered {response.status_code}"
    assert CANARY not in response.content.decode(errors="replace").lower()
    assert rows_of(seeded_shop.shop) == before
