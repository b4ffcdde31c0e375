"""Sending issues through a real SMTP server process: each due issue once, picks made per reader
with their reasons, and no email twice when a real worker process is killed while it sends."""

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from commerce.models import Customer, Product, Variant
from newsletters import sending
from newsletters.deliveries import DELIVERY_WORK
from newsletters.models import Delivery, Issue, NewsletterConsent, Subscriber, Subscription, Topic
from newsletters.sending import HAND_OFF_SIZE, deliveries_send, issue_create, issues_create_due
from personalize.models import CandidateList
from shop_app.jobs import job_process
from shop_app.models import Job, Shop, WorkStatus
from shop_app.work import work_sweep
from tests.live import ROOT, database_url_of_this_test, wait_for
from tests.newsletters.conftest import SmtpServer, smtp_server_start, smtp_settings
from tests.newsletters.test_subscribing import html_of

pytestmark = pytest.mark.django_db(transaction=True)


def reader(
    shop: Shop, topic: Topic, email: str, customer_id: int | None = None, cadence: str = "monthly"
) -> Subscriber:
    subscriber = Subscriber.objects.create(shop=shop, email=email, customer_shopify_id=customer_id)
    consent = NewsletterConsent.objects.create(
        shop=shop,
        subscriber=subscriber,
        method="storefront_email",
        text="Send me this topic.",
        version="1",
        language="en",
        given_at=timezone.now(),
        confirmed_at=timezone.now(),
    )
    Subscription.objects.create(
        shop=shop,
        subscriber=subscriber,
        topic=topic,
        cadence=cadence,
        status="confirmed",
        consent=consent,
        confirmed_at=timezone.now(),
    )
    return subscriber


def new_product(shop: Shop, shopify_id: int, product_type: str, tags: str = "new") -> Product:
    product = Product.objects.create(
        shop=shop,
        shopify_id=shopify_id,
        title=f"{product_type} {shopify_id}",
        handle=f"p-{shopify_id}",
        product_type=product_type,
        tags=tags,
    )
    Variant.objects.create(
        shop=shop,
        product=product,
        shopify_id=shopify_id * 10,
        position=0,
        options={},
        price=Decimal("40.00"),
        currency="USD",
        available=5,
        available_updated_at=timezone.now(),
    )
    return product


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def test_two_readers_of_one_topic_get_their_own_picks_each_with_its_reason(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, _ = topics
    arrivals.picks_count = 2
    arrivals.save()
    for shopify_id, product_type in [
        (1, "Coats"),
        (2, "Coats"),
        (3, "Shirts"),
        (4, "Shirts"),
        (5, "Bags"),
        (6, "Hats"),
    ]:
        new_product(shop, shopify_id, product_type)
    new_product(shop, 7, "Coats", tags="archive")  # not the topic's: never picked
    for customer_id, liked in [(11, [1, 2, 7]), (12, [3, 4, 7])]:
        Customer.objects.create(shop=shop, shopify_id=customer_id, email=f"c{customer_id}@example.com")
        CandidateList.objects.create(
            shop=shop,
            audience=f"shopper:{customer_id}",
            computed_at=timezone.now(),
            candidates=[
                {
                    "product": product,
                    "score": 1.0 - index / 10,
                    "kind": "similar_shoppers",
                    "evidence": {"products": [7]},
                }
                for index, product in enumerate(liked)
            ],
        )
        reader(shop, arrivals, f"c{customer_id}@example.com", customer_id)

    issue_create(arrivals, "monthly", this_month())
    job_process(Job.objects.get(kind="newsletters.issue_deliveries").pk)

    messages = {message["To"]: html_of(message) for message in smtp.wait_for(2)}
    picked = {to: re.findall(r'data-product-id="(\d+)"', html) for to, html in messages.items()}
    reasons = {to: re.findall(r'class="reason"[^>]*>([^<]+)<', html) for to, html in messages.items()}
    assert picked["c11@example.com"][0] in {"1", "2"}
    assert picked["c12@example.com"][0] in {"3", "4"}
    assert picked["c11@example.com"] != picked["c12@example.com"]
    assert "7" not in picked["c11@example.com"] + picked["c12@example.com"]
    assert all(len(found) == 2 and all(text.strip() for text in found) for found in reasons.values())
    assert Delivery.objects.filter(kind="issue", status=WorkStatus.DONE).count() == 2


def test_each_due_issue_is_created_once(shop: Shop, topics: Any, smtp: SmtpServer) -> None:
    arrivals, care = topics
    reader(shop, arrivals, "weekly@example.com", cadence="weekly")
    reader(shop, arrivals, "monthly@example.com", cadence="monthly")
    reader(shop, care, "care@example.com", cadence="quarterly")
    noon = timezone.now().replace(hour=23, minute=0)  # past the shop's send hour, wherever it is

    first = issues_create_due(noon)
    again = issues_create_due(noon + timedelta(minutes=15))

    assert sorted(issue.period.split(":")[0] for issue in first) == ["monthly", "quarterly", "weekly"]
    assert again == []
    assert Issue.objects.count() == 3
    assert Job.objects.filter(kind="newsletters.issue_deliveries").count() == 3


def test_a_row_another_worker_handed_off_is_not_sent_again_and_the_rest_of_its_group_goes(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    # Given an issue's rows, claimed by this worker, one of which another worker hands off (a
    # worker whose claim the sweeper freed, still running) while this one writes the emails
    arrivals, _ = topics
    emails = [f"reader{number}@example.com" for number in range(3)]
    for email in emails:
        reader(shop, arrivals, email)
    with mock.patch("newsletters.sending.delivery_enqueue"):
        issue_create(arrivals, "monthly", this_month())
        job_process(Job.objects.get(kind="newsletters.issue_deliveries").pk)
    first, taken, *_ = Delivery.objects.order_by("pk")
    written = sending.issue_messages

    def written_while_another_worker_hands_off(*arguments: Any) -> Any:
        messages = written(*arguments)
        Delivery.objects.filter(pk=taken.pk).update(handed_off_at=timezone.now())
        return messages

    # When this worker sends them
    with mock.patch("newsletters.sending.issue_messages", written_while_another_worker_hands_off):
        outcomes = deliveries_send(first.pk)

    # Then that row is not sent again (recorded uncertain), and the others are sent, once
    received = smtp.wait_for(2)
    assert sorted(message["To"] for message in received) == sorted(set(emails) - {taken.subscriber.email})
    assert Delivery.objects.get(pk=taken.pk).status == WorkStatus.IGNORED
    assert Delivery.objects.exclude(pk=taken.pk).filter(status=WorkStatus.DONE).count() == 2
    assert [outcome.outcome.value for _, outcome in sorted(outcomes.items())].count("done") == 2


def test_an_out_of_season_topic_sends_nothing(shop: Shop, topics: Any, smtp: SmtpServer) -> None:
    arrivals, _ = topics
    today = timezone.localdate()
    arrivals.season_start_month = arrivals.season_end_month = (today.month % 12) + 1
    arrivals.save()
    reader(shop, arrivals, "spring@example.com")

    assert issues_create_due(timezone.now().replace(hour=23)) == []


def worker(environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.fixture
def slow_smtp(tmp_path: Path) -> Any:
    server = smtp_server_start(tmp_path / "mail", seconds=0.25)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture
def worker_environment(slow_smtp: SmtpServer) -> dict[str, str]:
    return {
        "EMAIL_URL": f"smtp://127.0.0.1:{slow_smtp.port}",
        "NEWSLETTER_SEND_RATE_PER_SECOND": "0",
        "APP_URL": "https://omakase.example",
    }


def test_a_worker_killed_mid_send_sends_no_email_twice(
    shop: Shop,
    topics: Any,
    slow_smtp: SmtpServer,
    settings: Any,
    celery_worker_process: subprocess.Popen[str],
    worker_environment: dict[str, str],
) -> None:
    for name, value in smtp_settings(slow_smtp.port).items():
        setattr(settings, name, value)
    arrivals, _ = topics
    emails = [f"reader{number}@example.com" for number in range(20)]
    for email in emails:
        reader(shop, arrivals, email)

    # The issue's deliveries go to the real worker, which sends them one by one
    issue_create(arrivals, "monthly", this_month())
    slow_smtp.wait_for(4, timeout=60)

    # The worker is killed while it sends
    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    received_at_kill = len(slow_smtp.messages())
    assert received_at_kill < len(emails)

    # A new worker starts; beat's sweeper frees the rows of the dead worker (as it would once their
    # claim is older than the task time limit)
    replacement = worker(
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_of_this_test(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            **worker_environment,
        }
    )
    try:
        work_sweep(DELIVERY_WORK, now=timezone.now() + timedelta(hours=2))

        def all_settled() -> bool:
            """every delivery is done, or recorded as uncertain"""
            return not Delivery.objects.filter(status__in=["pending", "processing"]).exists()

        wait_for(all_settled, timeout=90)
    finally:
        replacement.terminate()
        replacement.wait(timeout=20)

    received = Counter(message["To"] for message in slow_smtp.messages())
    assert max(received.values()) == 1, "an email was sent twice"
    done = set(Delivery.objects.filter(status=WorkStatus.DONE).values_list("subscriber__email", flat=True))
    uncertain = set(
        Delivery.objects.filter(status=WorkStatus.IGNORED).values_list("subscriber__email", flat=True)
    )
    assert done <= set(received)
    assert done | uncertain == set(emails)
    # At most the rows being handed to SMTP when the worker died (one commit hands off a few)
    assert len(uncertain) <= HAND_OFF_SIZE
