"""Profiles in a real browser against devstore: the merchant finds a shopper in the Customers page
and reads their profile; the shopper tells the shop their birthday and size through the storefront
and sees what the shop believes; the merchant then sees what was told beside what was inferred."""

import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin, reload_until
from tests.live import Devstore

pytestmark = pytest.mark.integration

CONSENT_TEXT = "We use your birthday for a treat and your size to suggest what fits."


def test_the_merchant_reads_a_profile_the_shopper_told_more_to(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    browser: Browser,
    page: Page,
    screenshot: None,
) -> None:
    # Given a store with history that has installed Omakase and imported it
    devstore.seed(customers=15, orders=90)
    admin = open_in_admin(page, devstore)
    expect_import_done(admin)
    shopper = devstore.control("GET", "/customers", limit="1")["customers"][0]

    # When the merchant opens Customers from the admin's sidebar
    page.locator("#app-nav a", has_text="Customers").click()
    reload_until(
        page,
        lambda: expect(admin.locator("#profiles-run")).to_contain_text("Profiles computed", timeout=3_000),
        "the profiles are computed after the import",
    )

    # Then the segments are counted with their rules, and a search by email finds the shopper
    expect(admin.locator("#segments s-table-row")).to_have_count(7)
    admin.locator("#customer-query input").fill(shopper["email"])
    expect(admin.locator("#customers s-table-row")).to_have_count(1, timeout=10_000)

    # When the shopper signs in on the storefront and tells their birthday and size
    storefront = browser.new_context().new_page()
    storefront.goto(f"{devstore.url}/account/login")
    storefront.fill("input[name=email]", shopper["email"])
    storefront.click("button[type=submit]")
    told = storefront.evaluate(
        """async ([consent]) => {
            const response = await fetch("/apps/omakase/profile", {
              method: "POST",
              headers: {"Content-Type": "application/json"},
              body: JSON.stringify({
                facts: {birthday: {month: 4, day: 2}, gender: "prefer_not_to_say"},
                consent: {text: consent, version: "2026-12", language: "en"},
              }),
            });
            return [response.status, await response.json()];
        }""",
        [CONSENT_TEXT],
    )

    # Then the shop answers with what it now believes, told and inferred apart
    status, profile = told
    assert status == 200
    assert profile["told"]["birthday"]["value"] == {"month": 4, "day": 2}
    assert profile["inferred"]["orders"]["count"] >= 0

    # And the merchant opens the shopper's page and sees the told birthday beside the inferred parts
    admin.locator("#customers s-link").first.click()
    expect(admin.locator("#told")).to_contain_text("April 2", timeout=30_000)
    expect(admin.locator("#told")).to_contain_text("the shopper, on the storefront")
    expect(admin.locator("#inferred")).to_be_visible()


def test_the_customers_page_speaks_japanese(devstore: Devstore, page: Page, screenshot: None) -> None:
    page.goto(f"{devstore.url}/admin/apps/omakase?shop={devstore.shop}")
    app = page.frame_locator("#app-iframe")
    expect(app.locator("s-page")).to_be_attached(timeout=30_000)
    frame = page.frame(name="app-iframe")
    assert frame is not None

    frame.goto(frame.url.replace("/?", "/customers?") + "&locale=ja")

    expect(app.locator("s-page")).to_contain_text("顧客を探す", timeout=30_000)
    expect(app.locator("#segments")).to_contain_text("チャンピオン", timeout=30_000)
