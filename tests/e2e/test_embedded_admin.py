"""The merchant opens Omakase inside the Shopify admin (devstore's), in a real browser."""

import subprocess

import pytest
from playwright.sync_api import Page, expect

from shop_app.models import Shop
from tests.live import Devstore

pytestmark = pytest.mark.integration


def test_the_merchant_installs_and_watches_the_import_finish_in_the_admin(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page, screenshot: None
) -> None:
    # Given a store with history that has never opened Omakase
    devstore.seed(customers=30, orders=80)

    # When the merchant opens the app in the admin
    page.goto(f"{devstore.url}/admin/apps/omakase?shop={devstore.shop}")

    # Then the app loads inside the admin's frame, installed by the session token in its URL
    app = page.frame_locator("#app-iframe")
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)
    status = app.locator("#backfill-status")
    # And the page follows the import through our API, each call authenticated by a fresh
    # session token that App Bridge gets from the admin
    expect(status).to_contain_text("Import: done", timeout=90_000)
    expect(status).to_contain_text("80 orders")
    assert Shop.objects.get(domain=devstore.shop).is_installed
