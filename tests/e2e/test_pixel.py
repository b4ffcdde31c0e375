"""The web pixel in a real browser: the app gives its pixel the shop's key after install; on
devstore's storefront a signed-in shopper who allows analytics views a product, the pixel (the
built extension, in a Web Worker as Shopify's strict sandbox) posts the event to the app, and
"picked for you" then proposes what goes with that product; a shopper who declines gets no
pixel at all, and nothing reaches the app."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from commerce.models import Product
from personalize.candidates import candidates_precompute
from personalize.models import BrowsingEvent, CandidateList, PixelSettings
from shop_app.models import Shop
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin
from tests.e2e.test_storefront_blocks import blocks_filled
from tests.live import Devstore, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "extensions" / "omakase-pixel" / "dist" / "omakase-pixel.js"
FOR_YOU = 'section[data-block="for-you"]'


@pytest.fixture(scope="module", autouse=True)
def pixel_built() -> None:
    """The pixel as `shopify app deploy` would build it (npm run build:pixel, esbuild)."""
    subprocess.run(["npm", "run", "-s", "build:pixel"], cwd=ROOT, check=True, timeout=120)
    assert BUNDLE.is_file()


def sign_in(page: Page, devstore: Devstore, email: str) -> None:
    page.goto(f"{devstore.url}/account/login")
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")


def reasons_on_home(page: Page, devstore: Devstore) -> list[str]:
    page.goto(f"{devstore.url}/")
    blocks_filled(page)
    return page.locator(
        f"{FOR_YOU} .omakase__item[data-product-id]:not([hidden]) .omakase__reason"
    ).all_inner_texts()


def test_a_shopper_who_allows_analytics_changes_picked_for_you_and_one_who_declines_sends_nothing(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    browser: Browser,
    page: Page,
    screenshot: None,
    record_property: Any,
) -> None:
    # Given a store with history that installed Omakase, whose pixel got the shop's key
    devstore.seed(customers=15, orders=120)
    expect_import_done(open_in_admin(page, devstore))
    shop = Shop.objects.get(domain=devstore.shop)
    candidates_precompute(shop)

    def pixel_activated() -> bool:
        """the after-install job gave the web pixel its settings (webPixelCreate)"""
        return PixelSettings.objects.for_shop(shop).filter(activated_at__isnull=False).exists()

    wait_for(pixel_activated, timeout=60, interval=0.5)
    shoppers = devstore.control("GET", "/customers", limit="2")["customers"]
    related = {
        int(audience.split(":")[1])
        for audience in CandidateList.objects.for_shop(shop)
        .filter(audience__startswith="related:")
        .exclude(candidates=[])
        .values_list("audience", flat=True)
    }
    products = Product.objects.for_shop(shop).filter(shopify_id__in=related, status=Product.Status.ACTIVE)
    ingest: list[str] = []
    page.context.on("request", lambda request: _count_ingest(request, ingest))
    sandboxes: list[str] = []
    page.on("worker", lambda worker: sandboxes.append(worker.url))

    # And a signed-in shopper, who is asked about cookies
    sign_in(page, devstore, shoppers[0]["email"])
    before = reasons_on_home(page, devstore)
    viewed = next(product for product in products if not any(product.title in reason for reason in before))
    banner = page.locator("#devstore-consent")
    expect(banner).to_be_visible()

    # When they accept analytics and view a product
    banner.get_by_role("button", name="Accept").click()
    expect(banner).to_be_hidden()
    page.goto(f"{devstore.url}/products/{viewed.handle}")

    def view_arrived() -> bool:
        """the pixel's product_viewed reached the app, linked to the shopper"""
        return (
            BrowsingEvent.objects.for_shop(shop)
            .filter(
                kind="product_viewed",
                product_shopify_id=viewed.shopify_id,
                customer_shopify_id=shoppers[0]["id"],
            )
            .exists()
        )

    wait_for(view_arrived, timeout=15, interval=0.2)
    assert sandboxes  # the strict sandbox: a Web Worker
    assert all(url.endswith("/wpm/sandbox.js") for url in sandboxes)
    event = BrowsingEvent.objects.for_shop(shop).get(product_shopify_id=viewed.shopify_id)
    assert event.client_id == next(c["value"] for c in page.context.cookies() if c["name"] == "_shopify_y")

    # Then "picked for you" proposes what goes with it, saying so
    after = reasons_on_home(page, devstore)
    assert f"Often bought with {viewed.title}" in after, after
    assert ingest

    # When another shopper, in another browser, declines and views the same product
    declining = browser.new_context(viewport={"width": 1280, "height": 900})
    other = declining.new_page()
    sent: list[str] = []
    declining.on("request", lambda request: _count_ingest(request, sent))
    no_sandboxes: list[str] = []
    other.on("worker", lambda worker: no_sandboxes.append(worker.url))
    sign_in(other, devstore, shoppers[1]["email"])
    other.goto(f"{devstore.url}/")
    other.locator("#devstore-consent").get_by_role("button", name="Decline").click()
    other.goto(f"{devstore.url}/products/{viewed.handle}")
    other.wait_for_load_state("load")
    other.wait_for_timeout(1500)  # longer than the pixel waits before it posts

    # Then no pixel ran, no client id was set, no request reached the ingest and nothing is stored
    assert no_sandboxes == []
    assert not any(c["name"] == "_shopify_y" for c in declining.cookies())
    assert sent == []
    assert not BrowsingEvent.objects.for_shop(shop).filter(customer_shopify_id=shoppers[1]["id"]).exists()
    assert not BrowsingEvent.objects.for_shop(shop).exclude(client_id=event.client_id).exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(SCREENSHOTS / "pixel-declined.png"), full_page=True)
    declining.close()
    record_property("pixel_events", BrowsingEvent.objects.for_shop(shop).count())


def _count_ingest(request: Request, into: list[str]) -> None:
    if request.url.endswith("/pixel/events"):
        into.append(request.method)
