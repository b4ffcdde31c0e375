"""Logs never carry secrets or personal data: every record logged (all loggers, DEBUG and up)
while a shop installs (token exchange), Shopify sends a customer's details, the shopper tells
their profile and a guest signs up for a newsletter holds none of the tokens, the app's secret,
or the shopper's email, phone or names."""

import json
import logging
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from newsletters.models import Topic
from shop_app import install
from shop_app.models import Shop
from tests.conftest import make_session_token
from tests.storefront import proxy_url, signed_proxy_query
from tests.webhooks.conftest import Deliver, payload

DOMAIN = "log-shop.myshopify.com"
ACCESS_TOKEN = "shpat_logcanary0123456789abcdef"
REFRESH_TOKEN = "shprt_logcanary0123456789abcdef"
SHOPPER = 4242
EMAIL = "mei.tanaka@logs.example"
PHONE = "+819012345678"
FIRST, LAST = "Meiko", "Tanakawa"
GUEST_EMAIL = "kenji.guest@logs.example"


def shopify_token_endpoint(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/admin/oauth/access_token"
    return httpx.Response(
        200,
        json={
            "access_token": ACCESS_TOKEN,
            "scope": "read_customers,read_orders,read_products",
            "expires_in": 86399,
            "refresh_token": REFRESH_TOKEN,
            "refresh_token_expires_in": 7776000,
        },
    )


def everything_logged(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    return "\n".join(f"{formatter.format(record)} {vars(record)!r}" for record in records)


def test_nothing_logged_carries_a_secret_or_the_shoppers_data(
    client: Client,
    deliver: Deliver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    db: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(
        install,
        "shopify_http_client",
        lambda: httpx.Client(transport=httpx.MockTransport(shopify_token_endpoint)),
    )
    session_token = make_session_token(DOMAIN)

    # The merchant opens the app: App Home exchanges the session token for an offline token
    opened = client.get("/", {"shop": DOMAIN, "embedded": "1", "host": "aG9zdA", "id_token": session_token})
    assert opened.status_code == 200, opened.content
    shop = Shop.objects.get(domain=DOMAIN)
    assert shop.is_installed

    # Shopify sends the customer's details
    customer = payload("customers_create")
    customer.update(id=SHOPPER, email=EMAIL, phone=PHONE, first_name=FIRST, last_name=LAST)
    customer["default_address"].update(first_name=FIRST, last_name=LAST, phone=PHONE, name=f"{FIRST} {LAST}")
    customer["addresses"] = [customer["default_address"]]
    assert deliver(shop, "customers/create", customer).status_code == 200

    # The shopper tells their birthday and size, and a bad value is refused
    for facts in ({"birthday": {"month": 4, "day": 2}, "sizes": {"Shirts": "M"}}, {"birthday": EMAIL}):
        client.post(
            proxy_url("profile", signed_proxy_query(DOMAIN, customer_id=SHOPPER)),
            data=json.dumps({"facts": facts, "consent": {"text": "For a treat.", "version": "1"}}),
            content_type="application/json",
        )

    # A guest signs up for a newsletter, and a second time with a bad address
    topic = Topic.objects.create(shop=shop, handle="news", names={"en": "News"}, cadences=["monthly"])
    for email in (GUEST_EMAIL, f"{GUEST_EMAIL} {PHONE}"):
        client.post(
            proxy_url("newsletters/subscriptions", signed_proxy_query(DOMAIN)),
            data=json.dumps(
                {
                    "email": email,
                    "topics": [{"id": topic.pk, "cadence": "monthly"}],
                    "consent": {"text": "News, monthly.", "version": "1"},
                }
            ),
            content_type="application/json",
            headers={"X-Forwarded-For": "203.0.113.9"},
        )

    logged = everything_logged(caplog.records)
    assert "token exchange" in logged, "the scenario must log something to be checked"
    secrets = {
        "access token": ACCESS_TOKEN,
        "refresh token": REFRESH_TOKEN,
        "API secret": settings.SHOPIFY_API_SECRET,
        "session token": session_token,
    }
    personal = {
        "email": EMAIL,
        "guest's email": GUEST_EMAIL,
        "phone": PHONE,
        "first name": FIRST,
        "last name": LAST,
    }
    found: dict[str, Any] = {
        name: value for name, value in {**secrets, **personal}.items() if value.lower() in logged.lower()
    }
    assert found == {}, f"logged: {sorted(found)}"
