"""Newsletters in a real browser against devstore: a shopper picks two topics at a monthly cadence
on the storefront, confirms from the email's link, and later leaves one topic from the preference
center reached from the email. The email goes through a real SMTP server process, sent by a real
worker."""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from newsletters.models import Subscription, SubscriptionStatus
from tests.live import Devstore, install
from tests.newsletters.conftest import SmtpServer, smtp_server_start, topics_create
from tests.newsletters.test_subscribing import text_of

pytestmark = pytest.mark.integration


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[SmtpServer]:
    server = smtp_server_start(tmp_path / "mail")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture
def worker_environment(devstore_worker_environment: dict[str, str], mail: SmtpServer) -> dict[str, str]:
    return {
        **devstore_worker_environment,
        "EMAIL_URL": f"smtp://127.0.0.1:{mail.port}",
        "NEWSLETTER_SEND_RATE_PER_SECOND": "0",
    }


def test_a_shopper_subscribes_confirms_and_later_leaves_one_topic(
    devstore: Devstore,
    mail: SmtpServer,
    celery_worker_process: subprocess.Popen[str],
    live_server: Any,
    page: Page,
    screenshot: None,
) -> None:
    # Given a shop with two newsletter topics
    shop = install(devstore)
    arrivals, care = topics_create(shop)

    # When a shopper on the storefront picks both, monthly, and gives their email
    page.goto(f"{devstore.url}/")
    status, listed = page.evaluate(
        """async () => {
            const response = await fetch("/apps/omakase/newsletters/topics?locale=en");
            return [response.status, await response.json()];
        }"""
    )
    assert status == 200
    assert [topic["name"] for topic in listed["topics"]] == ["New arrivals", "Care tips"]
    answered = page.evaluate(
        """async (ids) => {
            const response = await fetch("/apps/omakase/newsletters/subscriptions", {
              method: "POST",
              headers: {"Content-Type": "application/json"},
              body: JSON.stringify({
                email: "hana@example.com",
                topics: ids.map((id) => ({id, cadence: "monthly"})),
                consent: {text: "Send me the topics I picked.", version: "1", language: "en"},
              }),
            });
            return response.status;
        }""",
        [arrivals.pk, care.pk],
    )
    assert answered == 202

    # Then a confirmation email arrives; its link opens a page, and only its button confirms
    [message] = mail.wait_for(1, timeout=60)
    confirm = re.search(r"(https?://\S+/newsletters/confirm/\S+)", text_of(message))
    assert confirm
    page.goto(confirm.group(1))
    expect(page.locator("#confirm")).to_be_visible()
    assert set(Subscription.objects.values_list("status", flat=True)) == {SubscriptionStatus.PENDING}
    page.locator("#confirm").click()
    expect(page.locator("h1")).to_have_text("You're subscribed")
    assert set(Subscription.objects.values_list("status", "cadence")) == {("confirmed", "monthly")}

    # When, later, the shopper opens the preference center and leaves "New arrivals"
    page.locator("#manage").click()
    topic = page.locator(f'fieldset[data-topic-id="{arrivals.pk}"] input[type=checkbox]')
    expect(topic).to_be_checked()
    topic.uncheck()
    page.locator("#save").click()

    # Then only that topic is left
    expect(page.locator("#saved")).to_be_visible()
    statuses = dict(Subscription.objects.values_list("topic_id", "status"))
    assert statuses == {arrivals.pk: SubscriptionStatus.UNSUBSCRIBED, care.pk: SubscriptionStatus.CONFIRMED}
