"""The newsletter figures of `make bench`, all in one run:

- newsletter_emails_per_s: personalized issue emails rendered and handed to a real SMTP server
  process (bench/smtp_sink.py's lean server on uvloop, reading each message whole and keeping
  none, on loopback) per second, by two worker processes running a worker's code path: claim
  a chunk, read what its picks need once, render each reader's email with their picks and
  reasons, hand off, send over the task's connections (newsletters.sending.SMTP_CONNECTIONS, side
  by side), mark done. They are forked from the bench's process once it has written one email, as
  workers that have sent before (imports and templates loaded). The server then says how many
  messages it took: every one sent, or the bench fails;
- newsletter_emails_aiosmtpd_per_s: the same against aiosmtpd (on uvloop), the SMTP server the
  tests use, which takes about ten times the lean server's processor time for a message, on the
  same two cores;
- newsletter_emails_locmem_per_s: the same path and rows with Django's locmem backend (each message
  serialized as for SMTP, and kept): what our side sends when the SMTP server is not the limit;
- newsletter_smtp_only_per_s (and _aiosmtpd_): what that SMTP server process takes from two
  processes handing it one already written issue email again and again, over one connection each
  (nothing of ours but the send);
- newsletter_plain_render_per_s: a plain render of the same templates with a fixed context (one
  process), the baseline the issue asks for.

`newsletters_bench(shop, emails)` needs Django configured on a database the bench may fill; it
writes a catalog, a topic and `emails` readers (half with their own candidate lists) for `shop`.
"""

from __future__ import annotations

import gc
import multiprocessing
import socket
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connections
from django.template.loader import render_to_string
from django.test.utils import override_settings
from django.utils import timezone

from commerce.models import Customer, Product, Variant
from newsletters.content import issue_context, issue_email
from newsletters.models import Delivery, Issue, NewsletterSettings, Subscriber, Subscription, Topic
from newsletters.sending import deliveries_send, issue_create, issue_deliveries_handler
from personalize.models import CandidateList
from shop_app.models import Job, Shop

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 60
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _smtp_sink(aiosmtpd: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """A real SMTP server process that reads and drops every message (bench/smtp_sink.py): the
    lean one, or aiosmtpd."""
    port = _free_port()
    arguments = (
        ["--aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
        if aiosmtpd
        else [str(port)]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_sink", *arguments], cwd=ROOT, stdout=subprocess.PIPE
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


def _sink_stop(sink: subprocess.Popen[bytes], sent: int | None) -> None:
    """Stop the sink; the lean one says what it took, which must be every message `sent`."""
    sink.terminate()
    output, _ = sink.communicate(timeout=10)
    if sent is not None:
        taken = int(output.split()[0]) if output.strip() else 0
        if taken != sent:
            raise RuntimeError(f"the SMTP sink took {taken} messages of {sent} sent")


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


def _worker(issue_pk: int, results: Any) -> None:
    """One worker process: what a Celery worker does for each wake-up, until the issue has no
    ready row left. Reports how many it sent, and when it started and ended."""
    started = time.monotonic()
    sent = 0
    # The rows only: no wake-up goes to a broker (this loop is the worker).
    with mock.patch("newsletters.sending.delivery_enqueue"):
        while True:
            waiting = (
                Delivery.objects.filter(issue_id=issue_pk, status="pending", available_at__lte=timezone.now())
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            if waiting is None:
                break
            outcomes = deliveries_send(waiting)
            sent += sum(1 for result in outcomes.values() if result.outcome.value == "done")
    ended = time.monotonic()
    connections.close_all()
    results.put((sent, started, ended))


def _sender(message: EmailMultiAlternatives, count: int, results: Any) -> None:
    """One process handing the same written message to SMTP `count` times over one connection."""
    started = time.monotonic()
    connection = get_connection(fail_silently=False)
    connection.open()
    for _ in range(count):
        connection.send_messages([message])
    connection.close()
    results.put((count, started, time.monotonic()))


def _workers_run(target: Any, *arguments: Any) -> tuple[int, float]:
    """WORKERS processes running `target` side by side: what they sent, and the seconds from the
    first start to the last end.

    They are forked from this process, which holds everything the bench made so far: the objects
    it has are frozen first (gc.freeze, as the standard library advises before a fork), or each
    worker's first full collection would walk them all, copying their pages, a fraction of a second
    of a run this short that a long-lived worker spends once."""
    connections.close_all()  # each process opens its own
    forked = multiprocessing.get_context("fork")
    results = forked.Queue()
    processes = [forked.Process(target=target, args=(*arguments, results)) for _ in range(WORKERS)]
    gc.freeze()
    try:
        for process in processes:
            process.start()
    finally:
        gc.unfreeze()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        if process.exitcode != 0:
            raise RuntimeError(f"a bench worker ended with {process.exitcode}")
    sent = sum(report[0] for report in reports)
    return sent, max(report[2] for report in reports) - min(report[1] for report in reports)


def newsletters_bench(shop: Shop, emails: int = 2000) -> dict[str, Any]:
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
    # The email the SMTP-only figure sends, written here first: this process then has what a worker
    # loads on its first email (the URL configuration, the templates, the shop's catalog), and the
    # workers forked from it start as workers that have sent before.
    reader = Subscriber.objects.filter(shop=shop).earliest("pk")
    subscription = Subscription.objects.get(subscriber=reader, topic=topic)
    message = issue_email(issue_context(issue, timezone.localdate()), reader, subscription, pks[0])

    settings = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "NEWSLETTER_SEND_RATE_PER_SECOND": 0,
        "EMAIL_BACKEND": "shop_app.mail.SmtpBackend",  # what EMAIL_URL smtp:// gives
    }
    figures: dict[str, Any] = {}
    for server in ("lean", "aiosmtpd"):
        suffix = "_aiosmtpd" if server == "aiosmtpd" else ""
        sink, port = _smtp_sink(aiosmtpd=server == "aiosmtpd")
        taken: int | None = None
        try:
            with override_settings(**settings, EMAIL_PORT=port):
                sent, seconds = _workers_run(_worker, issue.pk)
                statuses = Counter(Delivery.objects.filter(issue=issue).values_list("status", flat=True))
                _deliveries_reset(issue)
                smtp_only_sent, smtp_only_seconds = _workers_run(_sender, message, len(pks) // WORKERS)
            taken = None if suffix else sent + smtp_only_sent
        finally:
            _sink_stop(sink, taken)
        figures.update(
            {
                f"newsletter_emails{suffix}": sent,
                f"newsletter_deliveries{suffix}": dict(statuses),
                f"newsletter_emails{suffix}_per_s": _per_second(sent, seconds),
                f"newsletter_smtp_only{suffix}_per_s": _per_second(smtp_only_sent, smtp_only_seconds),
            }
        )
    with override_settings(**{**settings, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}):
        locmem_sent, locmem_seconds = _workers_run(_worker, issue.pk)
    locmem_statuses = Counter(Delivery.objects.filter(issue=issue).values_list("status", flat=True))

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
        "newsletter_workers": WORKERS,
        **figures,
        "newsletter_emails_locmem": locmem_sent,
        "newsletter_deliveries_locmem": dict(locmem_statuses),
        "newsletter_emails_locmem_per_s": _per_second(locmem_sent, locmem_seconds),
        "newsletter_plain_render_per_s": _per_second(len(pks), plain_seconds),
    }


def _per_second(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds else None


def _deliveries_reset(issue: Issue) -> None:
    """The issue's deliveries as they were before sending, for the next measure."""
    Delivery.objects.filter(issue=issue).update(
        status="pending",
        attempts=0,
        claimed_at=None,
        processed_at=None,
        handed_off_at=None,
        available_at=timezone.now(),
    )
