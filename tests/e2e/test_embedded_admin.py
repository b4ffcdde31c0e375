"""The merchant opens Omakase inside the Shopify admin (devstore's), in a real browser."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from shop_app.models import Shop
from tests.live import Devstore, wait_for

pytestmark = pytest.mark.integration


def open_in_admin(page: Page, devstore: Devstore) -> FrameLocator:
    """The merchant opens Omakase in the admin, and the app loads inside the admin's frame."""
    page.goto(f"{devstore.url}/admin/apps/omakase?shop={devstore.shop}")
    app = page.frame_locator("#app-iframe")
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)
    return app


def expect_import_done(app: FrameLocator) -> None:
    expect(app.locator("#backfill-status")).to_contain_text("Import: done", timeout=90_000)


def reload_until(page: Page, shown: Callable[[], None], what: str) -> None:
    """Reload the page until `shown` (an expect() with a short timeout) passes; `what` names it."""

    def reloaded_and_shown() -> bool:
        page.reload()
        try:
            shown()
        except AssertionError:
            return False
        return True

    reloaded_and_shown.__doc__ = what
    wait_for(reloaded_and_shown, timeout=60, interval=0.5)


def test_the_merchant_installs_and_watches_the_import_finish_in_the_admin(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page, screenshot: None
) -> None:
    # Given a store with history that has never opened Omakase
    devstore.seed(customers=30, orders=80)

    # When the merchant opens the app in the admin
    # Then the app loads inside the admin's frame, installed by the session token in its URL
    app = open_in_admin(page, devstore)

    # And the page follows the import through our API, each call authenticated by a fresh
    # session token that App Bridge gets from the admin
    expect_import_done(app)
    expect(app.locator("#backfill-status")).to_contain_text("80 orders")
    assert Shop.objects.get(domain=devstore.shop).is_installed

    # And the app's navigation is in the admin's sidebar, as App Bridge puts it, not in the app:
    # its home entry under the app's name, marked as the page shown
    home = page.locator("#app-nav a").first
    expect(home).to_have_text("Omakase")
    expect(home).to_have_attribute("aria-current", "page")
    expect(page.locator("#app-nav a", has_text="Customers")).to_be_visible()
    expect(app.locator("ui-nav-menu")).to_be_hidden()


def test_a_page_opened_without_a_session_token_gets_one_from_app_bridge_and_reloads(
    devstore: Devstore, page: Page, live_server: Any, screenshot: None
) -> None:
    # Given the app open in the admin
    app = open_in_admin(page, devstore)

    # When the frame navigates to the app without an id_token (a link inside the app)
    frame = page.frame(name="app-iframe")
    assert frame is not None
    frame.goto(f"{live_server.url}/?embedded=1&shop={devstore.shop}")

    # Then the app sends it to the patch page, App Bridge fetches a token and reloads with it
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)
    assert "id_token=" in frame.url
    assert "patch-id-token" not in frame.url


def test_an_order_placed_on_the_storefront_shows_in_the_merchants_admin(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    browser: Browser,
    page: Page,
    screenshot: None,
) -> None:
    # Given a store that has installed Omakase and finished importing its history
    devstore.seed(customers=10, orders=5)
    admin = open_in_admin(page, devstore)
    expect_import_done(admin)
    shopper_email = devstore.control("GET", "/customers", limit="1")["customers"][0]["email"]
    product = next(
        product
        for product in devstore.control("GET", "/products")["products"]
        if any(variant["inventory_quantity"] > 0 for variant in product["variants"])
    )
    variant = next(variant for variant in product["variants"] if variant["inventory_quantity"] > 0)

    # When a shopper signs in on the storefront and buys
    shopper = browser.new_context().new_page()
    shopper.goto(f"{devstore.url}/account/login")
    shopper.fill("input[name=email]", shopper_email)
    shopper.click("button[type=submit]")
    shopper.goto(f"{devstore.url}/products/{product['handle']}")
    shopper.select_option("select[name=id]", str(variant["id"]))
    shopper.click("button[name=add]")
    shopper.goto(f"{devstore.url}/cart")
    shopper.click("button[name=checkout]")
    order_name = shopper.locator(".order-name").inner_text()
    assert order_name.startswith("#")

    # Then the order reaches Omakase by webhook, a worker processes it, and the merchant sees it
    reload_until(
        page,
        lambda: expect(admin.locator("#recent-orders")).to_contain_text(order_name, timeout=3_000),
        "the order appears in the admin's recent orders",
    )
    expect(admin.locator("#recent-orders")).to_contain_text(shopper_email)
    expect(admin.locator("#failed-events")).to_contain_text("Every webhook was processed.")


def test_the_merchant_downloads_a_shoppers_data_request_from_the_admin(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page, screenshot: None
) -> None:
    # Given an installed store whose shopper asked the merchant for their data
    devstore.seed(customers=5, orders=10)
    admin = open_in_admin(page, devstore)
    expect_import_done(admin)
    shopper = devstore.control("GET", "/customers", limit="1")["customers"][0]
    devstore.control("POST", "/privacy", {"topic": "customers/data_request", "customer_id": shopper["id"]})

    # When the request has been processed and the merchant opens the app
    reload_until(
        page,
        lambda: expect(admin.locator("#privacy-requests s-button")).to_have_text("Download", timeout=3_000),
        "the data request is listed with its export",
    )
    with page.expect_download() as download:
        admin.locator("#privacy-requests s-button").click()

    # Then the file holds what we keep on that shopper
    exported = json.loads(Path(download.value.path()).read_text())
    profile = exported["sections"]["commerce"]["profile"]
    assert [(entry["email"], entry["first_name"]) for entry in profile] == [
        (shopper["email"], shopper["first_name"])
    ]
