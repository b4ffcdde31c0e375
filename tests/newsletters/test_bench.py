"""The newsletter bench can be measured: every email of its issue handed to a real SMTP server process
once (the figures themselves are for `make bench`, not asserted here)."""

import os
from typing import Any

import pytest

from bench.newsletters import newsletters_bench
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
