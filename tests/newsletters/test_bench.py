"""The newsletter bench can be measured: every email of its issue handed to a real SMTP server process
once (the figures themselves are for `make bench`, not asserted here)."""

import os
import smtplib
from typing import Any

import pytest

from bench.newsletters import _sink_stop, _smtp_sink, newsletters_bench
from newsletters.models import Delivery
from shop_app.models import Shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_newsletter_bench_sends_every_email_once(shop: Shop, settings: Any) -> None:
    emails = int(os.environ.get("NEWSLETTER_BENCH_EMAILS", "60"))

    figures = newsletters_bench(shop, emails=emails)

    print(figures)  # noqa: T201 - `pytest -s -k bench` shows them
    assert figures["newsletter_deliveries"] == {"done": emails}
    assert figures["newsletter_emails"] == emails
    assert figures["newsletter_deliveries_locmem"] == {"done": emails}
    assert figures["newsletter_emails_locmem"] == emails
    assert figures["newsletter_emails_per_s"]
    assert figures["newsletter_emails_locmem_per_s"]
    assert figures["newsletter_smtp_only_per_s"]
    assert figures["newsletter_plain_render_per_s"]
    assert not Delivery.objects.exists()


def test_the_bench_sink_speaks_smtp_and_counts_every_message() -> None:
    sink, port = _smtp_sink()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            # A command out of order is refused
            assert client.docmd("RCPT", "TO:<reader@example.com>")[0] == 503
            # Lines starting with a dot, and one that is a lone dot, are stuffed by the sender
            client.sendmail("news@shop.example", ["reader@example.com"], b".hidden\r\n.\r\nlast line\r\n")
            client.sendmail("news@shop.example", ["other@example.com"], b"second\r\n")
    finally:
        # Raises unless the server says it took both
        _sink_stop(sink, 2)
