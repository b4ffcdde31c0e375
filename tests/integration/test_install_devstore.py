"""Install, tokens, the Admin API client and uninstall, against a live devstore process."""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from shop_app.admin_api import AdminApiError, AdminClient
from shop_app.install import shop_uninstall
from shop_app.models import Shop
from shop_app.tokens import ShopNotAuthorized, shop_access_token
from tests.live import Devstore, install, open_app

pytestmark = pytest.mark.integration

SHOP_NAME_QUERY = "{ shop { name myshopifyDomain currencyCode } }"


def test_opening_the_app_exchanges_the_session_token_for_an_expiring_offline_token(
    devstore: Devstore, db: None
) -> None:
    response = open_app(devstore)

    assert response.status_code == 200
    assert b'<meta name="shopify-api-key" content="omakase-dev-key">' in response.content
    assert "frame-ancestors https://omakase-demo.myshopify.com" in response["Content-Security-Policy"]
    shop = Shop.objects.get(domain=devstore.shop)
    assert shop.is_installed
    assert shop.access_token_encrypted
    assert "shpat_" not in shop.access_token_encrypted
    assert shop.refresh_token_encrypted
    assert "shprt_" not in shop.refresh_token_encrypted
    assert shop.access_token_expires_at is not None
    assert timedelta(minutes=55) < shop.access_token_expires_at - timezone.now() <= timedelta(minutes=60)
    assert "read_orders" in shop.granted_scopes

    # And the token works for the Admin API
    data = AdminClient(shop).graphql(SHOP_NAME_QUERY)
    assert data["shop"]["myshopifyDomain"] == devstore.shop


def test_opening_the_app_again_reuses_the_token(devstore: Devstore, db: None) -> None:
    open_app(devstore)
    first = Shop.objects.get(domain=devstore.shop).access_token_encrypted

    open_app(devstore)

    assert Shop.objects.get(domain=devstore.shop).access_token_encrypted == first


def test_a_forged_session_token_installs_nothing(devstore: Devstore, db: None) -> None:
    token = devstore.session_token()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    response = Client().get("/", {"embedded": "1", "shop": devstore.shop, "id_token": forged})

    assert response.status_code in (302, 401)
    assert not Shop.objects.exists()


def test_a_token_about_to_expire_is_refreshed_and_the_refresh_token_rotates(
    devstore: Devstore, db: None
) -> None:
    shop = install(devstore)
    old_token = shop_access_token(shop)
    old_refresh = shop.refresh_token_encrypted
    # Given the token is within the refresh margin of its expiry
    Shop.objects.filter(pk=shop.pk).update(access_token_expires_at=timezone.now() + timedelta(minutes=1))
    shop.refresh_from_db()

    new_token = shop_access_token(shop)

    assert new_token != old_token
    shop.refresh_from_db()
    assert shop.refresh_token_encrypted != old_refresh
    assert shop.access_token_expires_at is not None
    assert shop.access_token_expires_at - timezone.now() > timedelta(minutes=55)
    assert AdminClient(shop).graphql(SHOP_NAME_QUERY)["shop"]["myshopifyDomain"] == devstore.shop


def test_a_token_that_expired_at_shopify_is_refreshed_once_after_a_401(devstore: Devstore, db: None) -> None:
    # Given Shopify issues tokens that live one second, and we believe ours lives an hour
    devstore.settings(access_token_ttl=1)
    shop = install(devstore)
    Shop.objects.filter(pk=shop.pk).update(access_token_expires_at=timezone.now() + timedelta(hours=1))
    shop.refresh_from_db()
    devstore.settings(access_token_ttl=3600)
    time.sleep(1.5)

    # When we call the API with the expired token, it answers 401, we refresh and retry
    data = AdminClient(shop).graphql(SHOP_NAME_QUERY)

    assert data["shop"]["myshopifyDomain"] == devstore.shop
    shop.refresh_from_db()
    assert shop.reauthorization_required_at is None


def test_a_refused_refresh_marks_the_shop_as_needing_the_merchant(devstore: Devstore, db: None) -> None:
    # Given refresh tokens that expire at once at Shopify
    devstore.settings(refresh_token_ttl=1)
    shop = install(devstore)
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now(), refresh_token_expires_at=timezone.now() + timedelta(days=1)
    )
    shop.refresh_from_db()
    time.sleep(1.5)

    with pytest.raises(ShopNotAuthorized):
        shop_access_token(shop)

    shop.refresh_from_db()
    assert shop.reauthorization_required_at is not None
    # And opening the app again repairs it with a new token exchange
    assert open_app(devstore).status_code == 200
    shop.refresh_from_db()
    assert shop.reauthorization_required_at is None


def test_concurrent_workers_refresh_once(devstore: Devstore, transactional_db: None) -> None:
    shop = install(devstore)
    Shop.objects.filter(pk=shop.pk).update(access_token_expires_at=timezone.now() + timedelta(minutes=1))
    tokens: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            tokens.append(shop_access_token(Shop.objects.get(pk=shop.pk)))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # A refresh token is single-use: had two workers refreshed, the second would have failed
    # with invalid_grant and marked the shop for reauthorization.
    assert errors == []
    assert len(set(tokens)) == 1
    assert Shop.objects.get(pk=shop.pk).reauthorization_required_at is None


def test_the_client_waits_for_the_cost_bucket_instead_of_being_throttled(
    devstore: Devstore, db: None
) -> None:
    # Given a store with customers, and a small bucket that refills slowly
    devstore.seed(customers=40, orders=10)
    devstore.settings(bucket_size=30, restore_rate=20)
    shop = install(devstore)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = AdminClient(shop, sleep=sleep)
    query = "{ customers(first: 20) { nodes { id email } } }"  # costs 22 of the 30

    # When we send more than the bucket holds, in a row
    results = [client.graphql(query) for _ in range(6)]

    # Then every request succeeded, because the client waited for the bucket to refill
    assert all("customers" in result for result in results)
    assert sum(waits) > 0


def test_throttled_answers_are_waited_out(devstore: Devstore, db: None) -> None:
    # Given customers enough that a query costs what it asks for, and a bucket for one such query
    devstore.seed(customers=20, orders=0)
    devstore.settings(bucket_size=15, restore_rate=10)
    shop = install(devstore)
    query = "{ customers(first: 10) { nodes { id } } }"  # costs 12 of the 15
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    # Clients that do not share a bucket estimate (as separate processes would not, had the cache
    # been cleared) run into THROTTLED, and wait it out rather than fail.
    results = []
    for _ in range(4):
        cache.clear()
        results.append(AdminClient(shop, sleep=sleep).graphql(query))

    assert all("customers" in result for result in results)
    assert waits, "no answer was THROTTLED: the test did not reach what it checks"


def test_429_and_5xx_are_retried(devstore: Devstore, db: None) -> None:
    shop = install(devstore)

    devstore.settings(failure={"remaining": 1, "status": 429, "retry_after": 1})
    assert AdminClient(shop).graphql(SHOP_NAME_QUERY)["shop"]["myshopifyDomain"] == devstore.shop

    devstore.settings(failure={"remaining": 1, "status": 503})
    assert AdminClient(shop).graphql(SHOP_NAME_QUERY)["shop"]["myshopifyDomain"] == devstore.shop

    devstore.settings(failure={"remaining": 10, "status": 503})
    with pytest.raises(AdminApiError):
        AdminClient(shop).graphql(SHOP_NAME_QUERY)
    devstore.settings(failure={"remaining": 0})


def test_uninstall_drops_the_tokens_and_stops_api_use(
    devstore: Devstore, db: None, api_client_for: Callable[[Shop], Client]
) -> None:
    shop = install(devstore)

    shop_uninstall(shop)

    shop.refresh_from_db()
    assert not shop.is_installed
    assert shop.access_token_encrypted == ""
    assert shop.refresh_token_encrypted == ""
    with pytest.raises(ShopNotAuthorized):
        AdminClient(shop).graphql(SHOP_NAME_QUERY)
    assert api_client_for(shop).get("/api/shop").status_code == 401

    # And a reinstall starts clean: a new token exchange, a new installation
    assert open_app(devstore).status_code == 200
    shop.refresh_from_db()
    assert shop.is_installed
    assert shop.access_token_encrypted
