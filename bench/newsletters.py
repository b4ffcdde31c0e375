"""The newsletter figures of `make bench`: personalized issue emails rendered and handed to a real
SMTP server process per second, by one worker's code path (claim, render with the reader's picks
and reasons, hand off, mark done), beside a plain render of the same template with a fixed context
in the same run.

`newsletters_bench(shop, emails)` needs Django configured on a database the bench may fill; it
writes a catalog, a topic and `emails` readers (half with their own candidate lists) for `shop`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from commerce.models import Customer, Product, Variant
from newsletters.models import Delivery, Issue, NewsletterSettings, Subscriber, Subscription, Topic
from newsletters.sending import deliveries_send, issue_create, issue_deliveries_handler
from personalize.models import CandidateList
from shop_app.models import Job, Shop

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _smtp_sink() -> tuple[subprocess.Popen[bytes], int]:
    """A real SMTP server process that accepts and drops every message."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the SMTP sink did not start")


def _readers_generate(shop: Shop, topic: Topic, emails: int) -> None:
    now = timezone.now()
    products = Product.objects.bulk_create(
        Product(
            shop=shop,
            shopify_id=900_000 + number,
            title=f"Arrival {number}",
            handle=f"arrival-{number}",
            product_type=["Shirts", "Coats", "Bags", "Hats"][number % 4],
            vendor=f"Vendor {number % 5}",
            tags="new",
        )
        for number in range(PRODUCTS)
    )
    Variant.objects.bulk_create(
        Variant(
            shop=shop,
            product=product,
            shopify_id=product.shopify_id * 10,
            position=0,
            options={},
            price=Decimal("50.00"),
            currency="USD",
            available=10,
            available_updated_at=now,
        )
        for product in products
    )
    ids = [product.shopify_id for product in products]
    customers = Customer.objects.bulk_create(
        Customer(shop=shop, shopify_id=800_000 + number, email=f"reader{number}@example.com")
        for number in range(emails)
    )
    CandidateList.objects.bulk_create(
        CandidateList(
            shop=shop,
            audience=f"shopper:{customer.shopify_id}",
            computed_at=now,
            candidates=[
                {
                    "product": ids[(index * 7 + offset) % PRODUCTS],
                    "score": 1 - offset / 10,
                    "kind": "similar_shoppers",
                    "evidence": {"products": [ids[index % PRODUCTS]]},
                }
                for offset in range(6)
            ],
        )
        for index, customer in enumerate(customers)
        if index % 2 == 0
    )
    readers = Subscriber.objects.bulk_create(
        Subscriber(shop=shop, email=customer.email, customer_shopify_id=customer.shopify_id)
        for customer in customers
    )
    Subscription.objects.bulk_create(
        Subscription(
            shop=shop, subscriber=reader, topic=topic, cadence="monthly", status="confirmed", confirmed_at=now
        )
        for reader in readers
    )


def newsletters_bench(shop: Shop, emails: int = 500) -> dict[str, Any]:
    NewsletterSettings.objects.update_or_create(
        shop=shop,
        defaults={
            "sender_name": "Bench",
            "from_email": "news@bench.example",
            "postal_address": "1 Bench Street",
        },
    )
    topic, _ = Topic.objects.update_or_create(
        shop=shop,
        handle="bench-arrivals",
        defaults={
            "names": {"en": "New arrivals", "ja": "新着"},
            "cadences": ["monthly"],
            "sections": [{"heading": {"en": "This month"}, "body": {"en": "What came in, picked for you."}}],
            "tags": ["new"],
            "picks_count": 3,
        },
    )
    _readers_generate(shop, topic, emails)
    # The rows only: the bench's loop below is the worker (no wake-up goes to a broker or runs eagerly).
    with mock.patch("newsletters.sending.delivery_enqueue"):
        issue = issue_create(topic, "monthly", timezone.localdate().replace(day=1))
        assert issue is not None
        job = Job.objects.get(shop=shop, kind="newsletters.issue_deliveries", key=str(issue.pk))
        while (
            not Issue.objects.get(pk=issue.pk).deliveries_created_at
            and issue_deliveries_handler(job) is not None
        ):
            pass
    pks = list(Delivery.objects.filter(issue=issue).order_by("pk").values_list("pk", flat=True))

    sink, port = _smtp_sink()
    saved = {name: getattr(settings, name, None) for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT")}
    rate = settings.NEWSLETTER_SEND_RATE_PER_SECOND
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.NEWSLETTER_SEND_RATE_PER_SECOND = 0
        started = time.perf_counter()
        sent = 0
        while True:
            waiting = (
                Delivery.objects.filter(issue=issue, status="pending")
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            if waiting is None:
                break
            with mock.patch("newsletters.sending.delivery_enqueue"):
                outcomes = deliveries_send(waiting)
            sent += sum(1 for result in outcomes.values() if result.outcome.value == "done")
        seconds = time.perf_counter() - started
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        settings.NEWSLETTER_SEND_RATE_PER_SECOND = rate
        sink.terminate()
        sink.wait(timeout=10)

    context = {
        "language": "en",
        "subject": "New arrivals: This month",
        "topic_name": "New arrivals",
        "cadence": "Monthly",
        "sections": [{"heading": "This month", "body": "What came in, picked for you."}],
        "picks": [],
        "footer": {
            "sender": "Bench",
            "postal_address": "1 Bench Street",
            "contact": "news@bench.example",
            "manage_url": "https://bench.example/m",
            "unsubscribe_url": "https://bench.example/u",
        },
    }
    started = time.perf_counter()
    for _ in range(len(pks)):
        render_to_string("newsletters/email/issue.html", context)
        render_to_string("newsletters/email/issue.txt", context)
    plain_seconds = time.perf_counter() - started
    Issue.objects.filter(pk=issue.pk).delete()
    return {
        "newsletter_emails": sent,
        "newsletter_emails_per_s": round(sent / seconds, 1) if seconds else None,
        "newsletter_plain_render_per_s": round(len(pks) / plain_seconds, 1) if plain_seconds else None,
    }
