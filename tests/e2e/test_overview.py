"""The merchant's Overview in a real browser: the first-run checklist follows the theme editor's
deep link, and the dashboard draws its charts from the workers' rollups."""

import json
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin, reload_until
from tests.live import Devstore

pytestmark = pytest.mark.integration

EMBED_OFF = {
    "current": {
        "blocks": {
            "omakase_embed": {
                "type": "shopify://apps/omakase-theme/blocks/omakase-embed/9c1f4c52-5e1d-4f0a-9a51-0c1b8f0e6a01",
                "disabled": True,
                "settings": {},
            }
        }
    }
}


def test_the_merchant_turns_on_the_app_embed_from_the_checklist_and_sees_the_dashboard(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page, screenshot: None
) -> None:
    # Given a store with history whose theme has Omakase's app embed turned off
    devstore.seed(customers=20, orders=60)
    devstore.control(
        "POST", "/theme/files", {"filename": "config/settings_data.json", "content": json.dumps(EMBED_OFF)}
    )

    # When the merchant opens Omakase, the import finishes
    app = open_in_admin(page, devstore)
    expect_import_done(app)

    # Then the checklist says the embed is still to do, and the blocks are placed (devstore's theme)
    embed_step = app.locator('[data-step="app_embed"]')
    reload_until(
        page,
        lambda: expect(app.locator('[data-step="import"]')).to_have_attribute(
            "data-done", "true", timeout=3_000
        ),
        "the checklist shows the import done",
    )
    expect(embed_step).to_have_attribute("data-done", "false")
    expect(app.locator('[data-step="blocks"]')).to_have_attribute("data-done", "true")
    expect(app.locator("#checklist-progress")).to_contain_text("of 5 steps done")

    # When they follow the step's link into the theme editor and save the embed switched on
    app.locator('[data-action="app_embed"]').click()
    page.wait_for_url("**/admin/themes/current/editor?**", timeout=15_000)
    embed = page.locator('input[name="embed"][value="omakase-theme/omakase-embed"]')
    expect(embed).to_be_checked()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "overview_theme_editor_deep_link.png"), full_page=True)
    page.locator("#save").click()
    expect(page.locator(".banner.success")).to_contain_text("Saved")

    # And go back to the app
    page.locator("#back-to-app").click()
    app = page.frame_locator("#app-iframe")

    # Then the checklist shows the embed on
    expect(app.locator('[data-step="app_embed"]')).to_have_attribute("data-done", "true", timeout=30_000)

    # And once the workers have rolled the history up, the dashboard draws its charts, each with
    # its table for screen readers
    reload_until(
        page,
        lambda: (
            expect(app.locator("#dashboard .overview-chart svg").first).to_be_visible(timeout=3_000)
            or expect(app.locator("#dashboard s-banner")).to_have_count(0, timeout=3_000)
        ),
        "the dashboard is ready with its charts",
    )
    expect(app.locator('#dashboard [data-figure="attributed_revenue"]')).to_be_visible()
    expect(app.locator('#dashboard [data-figure="points_outstanding"]')).to_be_visible()
    assert app.locator("#dashboard .overview-chart").count() >= 3
    first_table = app.locator("#dashboard .overview-chart details").first
    first_table.locator("summary").click()
    expect(first_table.locator("s-table-row").first).to_be_visible()

    # And the shop's operations are still there below
    expect(app.locator("#recent-orders")).to_be_visible()
    expect(app.locator("#privacy-requests")).to_be_attached()


def test_the_overview_speaks_japanese_when_the_admin_does(
    devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page, screenshot: None
) -> None:
    # Given an installed store
    devstore.seed(customers=5, orders=10)
    open_in_admin(page, devstore)

    # When the merchant's admin is in Japanese
    page.goto(f"{devstore.url}/admin/apps/omakase?shop={devstore.shop}&locale=ja")
    app = page.frame_locator("#app-iframe")

    # Then the checklist and the dashboard's headings are in Japanese
    expect(app.locator("#checklist-section")).to_contain_text("はじめに", timeout=30_000)
    expect(app.locator('[data-step="app_embed"]')).to_contain_text("アプリ埋め込み", timeout=30_000)
