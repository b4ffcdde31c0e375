"""A shopper's journeys through the theme's blocks in a real browser against devstore: the quiz
proposes at once and again on a miss, "my preferences" corrects what the shop believes and the
blocks follow, and a guest sees only what is not personal."""

import subprocess
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from personalize.quiz import quiz_save
from shop_app.models import Shop
from tests.e2e.test_embedded_admin import expect_import_done, open_in_admin
from tests.live import Devstore, wait_for

pytestmark = pytest.mark.integration


def signed_in(browser: Browser, devstore: Devstore, email: str) -> Page:
    shopper = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    shopper.goto(f"{devstore.url}/account/login")
    shopper.fill("input[name=email]", email)
    shopper.click("button[type=submit]")
    return shopper


def block(page: Page, name: str, limit: int = 8) -> Any:
    return page.evaluate(
        """async ([name, limit]) => {
            const response = await fetch(`/apps/omakase/recommendations?block=${name}&limit=${limit}`);
            return response.json();
        }""",
        [name, limit],
    )


@pytest.fixture
def store(devstore: Devstore, celery_worker_process: subprocess.Popen[str], page: Page) -> dict[str, Any]:
    """A store that installed Omakase, imported its history and computed profiles and candidates."""
    devstore.seed(customers=15, orders=150)
    expect_import_done(open_in_admin(page, devstore))
    products = devstore.control("GET", "/products")["products"]
    shopper = devstore.control("GET", "/customers", limit="1")["customers"][0]
    return {"products": products, "shopper": shopper, "shop": Shop.objects.get(domain=devstore.shop)}


def test_the_quiz_proposes_at_once_and_again_on_a_miss(
    devstore: Devstore, store: dict[str, Any], browser: Browser, screenshot: None
) -> None:
    types = sorted({product["product_type"] for product in store["products"] if product["product_type"]})
    quiz_save(
        store["shop"],
        "Find your style",
        [
            {
                "text": "What are you looking for?",
                "kind": "multiple",
                "options": [{"label": kind, "product_types": [kind]} for kind in types[:3]],
            }
        ],
        published=True,
    )
    shopper = signed_in(browser, devstore, store["shopper"]["email"])

    # The shopper answers the quiz block and sees picks at once, each saying why
    shopper.goto(f"{devstore.url}/pages/quiz")
    quiz = shopper.locator('[data-omakase="quiz"]')
    expect(quiz.locator("input[type=checkbox]").first).to_be_visible(timeout=15_000)
    for box in quiz.locator("input[type=checkbox]").all():
        box.check()
    with shopper.expect_response(lambda response: "/quiz/answers" in response.url) as answered:
        quiz.locator("button[type=submit]").click()
    assert answered.value.status == 200, (answered.value.text(), answered.value.request.post_data)
    picks = quiz.locator(".omakase-quiz__results li")
    expect(picks.first).to_be_visible(timeout=15_000)
    expect(picks.first).to_contain_text("Picked because you said")
    first_title = picks.first.locator("a").first.inner_text()

    # "Not quite" on the first pick, because of its style: a different proposal without it
    picks.first.get_by_role("button", name="Not quite").first.click()
    picks.first.get_by_role("button", name="Style").click()
    expect(quiz.locator(".omakase-quiz__results li").first).not_to_contain_text(first_title, timeout=15_000)
    titles = quiz.locator(".omakase-quiz__results li a").all_inner_texts()
    assert first_title not in titles


def test_a_correction_in_my_preferences_reaches_every_block(
    devstore: Devstore, store: dict[str, Any], browser: Browser, screenshot: None
) -> None:
    shopper = signed_in(browser, devstore, store["shopper"]["email"])
    wait_for(lambda: block(shopper, "for-you")["items"], timeout=90, interval=2)
    type_of = {product["id"]: product["product_type"] for product in store["products"]}
    shown_types = {type_of.get(item["product_id"]) for item in block(shopper, "for-you", 12)["items"]}
    unwanted = sorted(kind for kind in shown_types if kind)[0]

    # The shopper says a category is not for them, in "my preferences" on their account page
    shopper.goto(f"{devstore.url}/account")
    preferences = shopper.locator('[data-omakase="preferences"]')
    excluded = preferences.locator('input[name="excluded_categories"]')
    expect(excluded).to_be_visible(timeout=15_000)
    excluded.fill(unwanted)
    preferences.locator("button[type=submit]").click()
    expect(preferences.locator(".omakase__status")).not_to_be_empty(timeout=10_000)

    # Every block follows at once: nothing of that category any more
    for name in ("for-you", "trending"):
        items = block(shopper, name, 12)["items"]
        assert unwanted not in {type_of.get(item["product_id"]) for item in items}, name
    told = shopper.evaluate("async () => (await (await fetch('/apps/omakase/profile')).json()).told")
    assert told["excluded_categories"]["value"] == [unwanted]


def test_a_guest_sees_only_what_is_not_personal(
    devstore: Devstore, store: dict[str, Any], browser: Browser, screenshot: None
) -> None:
    guest = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    guest.goto(f"{devstore.url}/")

    wait_for(lambda: block(guest, "for-you")["items"], timeout=90, interval=2)
    kinds = {item["reason"]["kind"] for item in block(guest, "for-you", 12)["items"]}
    assert kinds <= {"trending", "discovery"}
    profile = guest.evaluate("async () => (await fetch('/apps/omakase/profile')).status")
    assert profile == 401
    guest.reload()
    expect(guest.locator('[data-omakase="recommendations"] li').first).to_be_visible(timeout=15_000)
