"""The merchant opens Omakase inside the Shopify admin (devstore's), in a real browser."""

import subprocess
from typing import Any

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


def test_a_page_opened_without_a_session_token_gets_one_from_app_bridge_and_reloads(
    devstore: Devstore, page: Page, live_server: Any, screenshot: None
) -> None:
    # Given the app open in the admin
    page.goto(f"{devstore.url}/admin/apps/omakase?shop={devstore.shop}")
    app = page.frame_locator("#app-iframe")
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)

    # When the frame navigates to the app without an id_token (a link inside the app)
    frame = page.frame(name="app-iframe")
    assert frame is not None
    frame.goto(f"{live_server.url}/?embedded=1&shop={devstore.shop}")

    # Then the app sends it to the patch page, App Bridge fetches a token and reloads with it
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)
    assert "id_token=" in frame.url
    assert "patch-id-token" not in frame.url
