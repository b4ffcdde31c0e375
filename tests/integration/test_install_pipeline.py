"""The whole install, as a merchant triggers it: open the app in the admin, and a real worker
syncs the shop, subscribes to webhooks and imports the store's history from devstore."""

import subprocess
from collections.abc import Callable

import pytest
from django.test import Client

from commerce.models import Backfill, Customer, Order
from shop_app.admin_api import AdminClient
from shop_app.models import Shop
from shop_app.webhook_subscriptions import SUBSCRIPTIONS_QUERY
from tests.live import Devstore, install, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_environment(devstore_worker_environment: dict[str, str]) -> dict[str, str]:
    return devstore_worker_environment


def test_install_syncs_subscribes_and_imports_the_store_in_the_worker(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    api_client_for: Callable[[Shop], Client],
) -> None:
    # Given a store with history
    devstore.seed(customers=60, orders=250)
    store_customers = len(devstore.control("GET", "/customers", limit="1000")["customers"])

    # When the merchant opens the app for the first time
    shop = install(devstore)

    # Then the worker imports every customer and order

    def backfill_finished() -> Backfill | None:
        """the backfill finishes"""
        backfill = Backfill.objects.for_shop(shop).first()
        return backfill if backfill is not None and not backfill.is_active else None

    backfill = wait_for(backfill_finished, timeout=120, interval=0.5)
    assert backfill.status == Backfill.Status.DONE, backfill.error
    assert backfill.orders_imported == 250
    assert backfill.customers_imported == store_customers
    assert Order.objects.for_shop(shop).count() == 250
    assert Customer.objects.for_shop(shop).count() >= store_customers

    # And the shop's details came from Shopify
    [in_store] = [row for row in devstore.control("GET", "/shops")["shops"] if row["domain"] == devstore.shop]
    shop.refresh_from_db()
    assert (shop.shopify_id, shop.name, shop.currency, shop.timezone) == (
        in_store["id"],
        in_store["name"],
        in_store["currency"],
        in_store["timezone"],
    )

    # And no shop-scoped webhook subscription was created: the toml's app-scoped ones serve a
    # public install, and a second subscription per topic would double every delivery
    subscriptions = AdminClient(shop).graphql(SUBSCRIPTIONS_QUERY, {"after": None})["webhookSubscriptions"]
    assert subscriptions["nodes"] == []

    # And the admin shows the import's progress through the session-token API
    progress = api_client_for(shop).get("/api/import").json()["import"]
    assert progress["status"] == "done"
    assert progress["orders_imported"] == 250
