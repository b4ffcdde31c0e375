"""Loyalty in a real Chromium against devstore: a shopper earns on an order and sees the points
pending, then available (the pending period shortened by the test); joins and gives their birthday
for points; redeems; and the code works once at devstore's checkout, for that shopper only.

The storefront calls go through fetch to /apps/omakase/... from the storefront page, as the
loyalty block's script makes them (devstore's pages do not place the block)."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from loyalty.models import Lot
from loyalty.program import demo_program_seed
from shop_app.models import Shop
from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin
from tests.live import Devstore, wait_for

pytestmark = pytest.mark.integration

CONSENT = "Your birthday, for a birthday treat and points."


def call(page: Page, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    answer: list[Any] = page.evaluate(
        """async ([method, path, body]) => {
            const response = await fetch(path, {method, headers: {"Content-Type": "application/json"},
              body: body === null ? undefined : JSON.stringify(body)});
            return [response.status, await response.json()];
        }""",
        [method, path, body],
    )
    return answer[0], answer[1]


def test_a_shopper_earns_gives_their_birthday_redeems_and_the_code_works_once_for_them(
    devstore: Devstore,
    celery_worker_process: subprocess.Popen[str],
    browser: Browser,
    page: Page,
    screenshot: None,
) -> None:
    # Given an installed store with the demo program (pending period: a day)
    devstore.seed(customers=6, orders=3)
    admin = open_in_admin(page, devstore)
    expect_import_done(admin)
    demo_program_seed(Shop.objects.get(domain=devstore.shop))
    shoppers = devstore.control("GET", "/customers", limit="2")["customers"]
    shopper, someone_else = shoppers[0], shoppers[1]
    product = next(
        p
        for p in devstore.control("GET", "/products")["products"]
        if any(v["inventory_quantity"] > 5 for v in p["variants"])
    )
    variant = next(v for v in product["variants"] if v["inventory_quantity"] > 5)

    # When the shopper signs in and buys
    storefront = browser.new_context().new_page()
    storefront.goto(f"{devstore.url}/account/login")
    storefront.fill("input[name=email]", shopper["email"])
    storefront.click("button[type=submit]")
    storefront.goto(f"{devstore.url}/products/{product['handle']}")
    storefront.select_option("select[name=id]", str(variant["id"]))
    storefront.click("button[name=add]")
    storefront.goto(f"{devstore.url}/cart")
    storefront.click("button[name=checkout]")
    assert storefront.locator(".order-name").inner_text().startswith("#")

    # Then the order's points show as pending
    def pending() -> Any:
        """the order's points are pending"""
        status, widget = call(storefront, "GET", "/apps/omakase/loyalty?locale=en")
        return widget if status == 200 and widget["member"] and widget["member"]["pending"] > 0 else None

    widget = wait_for(pending, timeout=60, interval=0.5)
    earned = widget["member"]["pending"]
    assert widget["member"]["available"] == 0

    # And once the pending period is over (shortened here), available
    Lot.objects.filter(available_at__gt=timezone.now()).update(available_at=timezone.now())
    status, widget = call(storefront, "GET", "/apps/omakase/loyalty?locale=en")
    assert (widget["member"]["available"], widget["member"]["pending"]) == (earned, 0)

    # When they join (the notice shown) and give their birthday
    status, joined = call(
        storefront,
        "POST",
        "/apps/omakase/loyalty/join",
        {"notice_version": widget["program"]["notice_version"]},
    )
    assert status == 200, joined
    status, told = call(
        storefront,
        "POST",
        "/apps/omakase/profile",
        {"facts": {"birthday": {"month": 3, "day": 14}}, "consent": {"text": CONSENT, "version": "1"}},
    )
    assert status == 200, told

    # Then the birthday's points are there, at once, and that way to earn is done
    status, widget = call(storefront, "GET", "/apps/omakase/loyalty?locale=en")
    ways = {way["key"]: way for way in widget["ways_to_earn"]}
    assert ways["birthday"]["done"] is True
    assert ways["join"]["done"] is True
    assert widget["member"]["available"] == earned + 50 + 100

    # When they redeem the cheapest reward
    reward = min(widget["rewards"], key=lambda item: item["points_cost"])
    status, redeemed = call(
        storefront,
        "POST",
        "/apps/omakase/loyalty/redeem",
        {"reward_id": reward["id"], "idempotency_key": "e2e-redeem-1"},
    )
    assert status == 200, redeemed
    code = redeemed["code"]
    assert redeemed["points_spent"] == reward["points_cost"]
    assert redeemed["balance"]["available"] == earned + 150 - reward["points_cost"]
    status, again = call(
        storefront,
        "POST",
        "/apps/omakase/loyalty/redeem",
        {"reward_id": reward["id"], "idempotency_key": "e2e-redeem-1"},
    )
    assert again["code"] == code

    # Then someone else cannot use the code
    refused = httpx.post(
        f"{devstore.url}/_devstore/orders",
        json={
            "customer_id": someone_else["id"],
            "lines": [{"variant_id": variant["id"], "quantity": 1}],
            "discount_code": code,
        },
        timeout=30,
    )
    assert refused.status_code == 422
    assert "customer" in refused.json()["error"]

    # And the shopper uses it at checkout, once
    storefront.goto(f"{devstore.url}/products/{product['handle']}")
    storefront.select_option("select[name=id]", str(variant["id"]))
    storefront.click("button[name=add]")
    storefront.goto(f"{devstore.url}/cart")
    storefront.fill("input[name=discount]", code)
    storefront.click("button[name=checkout]")
    assert storefront.locator(".order-name").inner_text().startswith("#")
    used = [d for d in devstore.control("GET", "/discounts")["discounts"] if d["code"] == code]
    assert used[0]["usage_count"] == 1
    twice = httpx.post(
        f"{devstore.url}/_devstore/orders",
        json={
            "customer_id": shopper["id"],
            "lines": [{"variant_id": variant["id"], "quantity": 1}],
            "discount_code": code,
        },
        timeout=30,
    )
    assert twice.status_code == 422
