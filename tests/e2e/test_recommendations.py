"""Recommendations in a real browser against devstore: the merchant changes their rules with
Shopify's contextual save bar and previews what a shopper sees, reasons included; a shopper signed
in on the storefront gets their block through the app proxy and says "not for me"."""

import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from personalize.models import RecommendationSettings
from shop_app.models import Shop
from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin, reload_until
from tests.live import Devstore

pytestmark = pytest.mark.integration


def test_the_merchant_sets_rules_with_the_save_bar_and_previews_a_shoppers_block(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    browser: Browser,
    page: Page,
    screenshot: None,
) -> None:
    # Given a store with history that has installed Omakase and imported it
    devstore.seed(customers=15, orders=120)
    admin = open_in_admin(page, devstore)
    expect_import_done(admin)
    shopper = devstore.control("GET", "/customers", limit="1")["customers"][0]

    # When the merchant opens Personalization and changes the discovery share
    page.locator("#app-nav a", has_text="Personalization").click()
    share = admin.locator('#rules input[name="discovery_share"]')
    expect(share).to_have_value("10", timeout=30_000)
    share.fill("20")

    # Then Shopify's contextual save bar appears in the admin, and Save stores the rules
    expect(page.locator("#save-bar")).to_be_visible()
    page.locator("#save-bar button[data-action=save]").click()
    expect(page.locator("#save-bar")).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("Rules saved")
    shop = Shop.objects.get(domain=devstore.shop)
    assert RecommendationSettings.objects.get(shop=shop).discovery_share == pytest.approx(0.2)

    # And Discard puts back what was saved
    share.fill("35")
    page.locator("#save-bar button[data-action=discard]").click()
    expect(share).to_have_value("20")
    expect(page.locator("#save-bar")).to_be_hidden()

    # When the candidates are computed, the preview shows a shopper's block with reasons
    def previewed() -> None:
        admin.locator("#preview-customer input").fill(str(shopper["id"]))
        admin.locator("#preview-show").click()
        expect(admin.locator("#preview s-table-row").first).to_be_visible(timeout=3_000)

    reload_until(page, previewed, "the preview lists recommendations once they are computed")

    # And the shopper, signed in on the storefront, gets their block and says "not for me"
    storefront = browser.new_context().new_page()
    storefront.goto(f"{devstore.url}/account/login")
    storefront.fill("input[name=email]", shopper["email"])
    storefront.click("button[type=submit]")
    block = storefront.evaluate(
        """async () => {
            const response = await fetch("/apps/omakase/recommendations?block=for-you&limit=4");
            return [response.status, await response.json()];
        }"""
    )
    status, body = block
    assert status == 200
    assert body["items"], body
    first = body["items"][0]
    assert first["reason"]["text"]
    dismissed = storefront.evaluate(
        """async (productId) => {
            const response = await fetch("/apps/omakase/recommendations/dismiss", {
              method: "POST", headers: {"Content-Type": "application/json"},
              body: JSON.stringify({product_id: productId}),
            });
            const again = await fetch("/apps/omakase/recommendations?block=for-you&limit=8");
            return [response.status, (await again.json()).items.map((item) => item.product_id)];
        }""",
        first["product_id"],
    )
    assert dismissed[0] == 200
    assert first["product_id"] not in dismissed[1]
