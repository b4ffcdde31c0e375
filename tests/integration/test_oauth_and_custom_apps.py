"""The legacy OAuth code grant and custom apps, against a live devstore."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from shop_app.admin_api import AdminClient
from shop_app.install import shop_after_install
from shop_app.models import Shop
from shop_app.tokens import shop_access_token
from tests.live import Devstore

pytestmark = pytest.mark.integration


def grant(devstore: Devstore, browser: Client) -> str:
    """The merchant installs through the grant screen; returns the callback path and query."""
    start = browser.get("/auth/install", {"shop": devstore.shop})
    assert start.status_code == 302
    assert start["Location"].startswith(f"{devstore.url}/admin/oauth/authorize?")
    approved = httpx.get(start["Location"] + "&auto=1", follow_redirects=False, timeout=10)
    assert approved.status_code == 302
    callback = urlsplit(approved.headers["location"])
    return f"{callback.path}?{callback.query}"


def test_the_code_grant_installs_the_shop(devstore: Devstore) -> None:
    browser = Client()
    callback = grant(devstore, browser)

    response = browser.get(callback)

    # Then the merchant lands in the app inside their admin
    assert response.status_code == 302
    assert httpx.get(response["Location"], timeout=10).status_code == 200
    shop = Shop.objects.get(domain=devstore.shop)
    assert shop.is_installed
    # An expiring offline token with its refresh token, as public apps must hold
    assert shop.access_token_expires_at is not None
    assert shop.refresh_token_encrypted
    assert not shop.is_custom_app
    assert (
        AdminClient(shop).graphql("{ shop { myshopifyDomain } }")["shop"]["myshopifyDomain"] == devstore.shop
    )


def test_a_replayed_callback_is_refused_and_changes_nothing(devstore: Devstore) -> None:
    browser = Client()
    callback = grant(devstore, browser)
    browser.get(callback)
    shop = Shop.objects.get(domain=devstore.shop)
    token = shop_access_token(shop)

    replay = Client()
    replay.cookies = browser.cookies  # even with the cookie the first answer deleted
    response = replay.get(callback)

    assert response.status_code == 403
    shop.refresh_from_db()
    assert shop_access_token(shop) == token


def test_a_callback_from_another_browser_is_refused(devstore: Devstore) -> None:
    callback = grant(devstore, Client())

    assert Client().get(callback).status_code == 403
    assert not Shop.objects.filter(domain=devstore.shop).exists()


def test_a_tampered_callback_is_refused(devstore: Devstore) -> None:
    browser = Client()
    path, query = grant(devstore, browser).split("?", 1)
    params = {key: values[0] for key, values in parse_qs(query).items()}
    params["shop"] = "second-shop.myshopify.com"

    assert browser.get(path, params).status_code == 403
    assert not Shop.objects.exists()


def test_connect_shop_registers_a_custom_app_and_subscribes_its_webhooks(devstore: Devstore) -> None:
    # Given the merchant created a custom app and copied its static Admin API token
    static = devstore.control("POST", "/access-token", {"shop": devstore.shop, "expiring": False})
    assert "expires_in" not in static or not static["expires_in"]

    call_command("connect_shop", devstore.shop, "--access-token", static["access_token"])

    shop = Shop.objects.get(domain=devstore.shop)
    assert shop.is_installed
    assert shop.refresh_token_encrypted == ""
    assert shop.access_token_expires_at is None
    # The after-install work the worker would run:
    shop_after_install(shop)
    subscriptions = AdminClient(shop).graphql("{ webhookSubscriptions(first: 50) { nodes { topic } } }")
    assert {"ORDERS_CREATE", "APP_UNINSTALLED"} <= {
        n["topic"] for n in subscriptions["webhookSubscriptions"]["nodes"]
    }


def test_connect_shop_refuses_a_bad_domain(db: None) -> None:
    with pytest.raises(CommandError, match=r"not a myshopify\.com domain"):
        call_command("connect_shop", "evil.example.com", "--access-token", "shpat_x")
    assert not Shop.objects.exists()
