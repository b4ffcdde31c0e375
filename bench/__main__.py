"""`make bench`: the hot paths of Omakase, each as a ratio against a baseline run in the same
process, because these machines are noisy and absolute times mean little from one run to the
next. The baseline is the cheapest request Django can answer through our middleware (a 404).

Figures: webhook intake (a new event, a duplicate, a bad signature), processing one stored
orders/create event, and importing one order of a bulk backfill. Results are printed and written
to bench/results/latest.json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / "tests" / "webhooks" / "payloads"
RESULTS = ROOT / "bench" / "results" / "latest.json"
ROUNDS = 5


def configure(workdir: Path) -> None:
    """A private database and broker queue, so the run touches nothing of the developer's."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("CELERY_BROKER_URL", "filesystem://localhost/")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"  # the host of Django's test client
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from config.celery import app as celery_app
    from config.settings.base import filesystem_broker_options

    # The web process only enqueues; a worker would process later.
    celery_app.conf.task_always_eager = False
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        celery_app.conf.broker_transport_options = filesystem_broker_options(workdir / "broker")
    call_command("migrate", verbosity=0)


def per_operation(operation: Callable[[int], object], count: int) -> float:
    """Median seconds per operation over ROUNDS rounds of `count` operations."""
    timings = []
    serial = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            serial += 1
            operation(serial)
        timings.append((time.perf_counter() - started) / count)
    return statistics.median(timings)


def main() -> int:
    # The bad-signature figure would print a warning per request.
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="omakase-bench-") as workdir:
        configure(Path(workdir))
        return run()


def run() -> int:
    from django.conf import settings
    from django.test import Client

    from commerce.backfill import backfill_import_lines
    from commerce.models import Backfill
    from shop_app.models import Shop
    from webhooks.models import WebhookEvent
    from webhooks.processing import webhook_event_process

    shop = Shop.objects.create(domain="bench-shop.myshopify.com", installed_at=datetime.now(UTC))
    client = Client()
    order = json.loads((PAYLOADS / "orders_create.json").read_text())

    def signed(body: bytes) -> str:
        return base64.b64encode(
            hmac.new(settings.SHOPIFY_API_SECRET.encode(), body, hashlib.sha256).digest()
        ).decode()

    def order_body(serial: int) -> bytes:
        return json.dumps(
            {**order, "id": 10_000_000 + serial, "admin_graphql_api_id": f"gid://shopify/Order/{serial}"}
        ).encode()

    def deliver(body: bytes, event_id: str, signature: str | None = None) -> int:
        response = client.post(
            "/webhooks/",
            data=body,
            content_type="application/json",
            headers={
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": signature or signed(body),
                "X-Shopify-Shop-Domain": shop.domain,
                "X-Shopify-API-Version": settings.SHOPIFY_API_VERSION,
                "X-Shopify-Webhook-Id": f"webhook-{event_id}",
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": "2026-11-25T10:00:00.000Z",
            },
        )
        assert response.status_code == 200, response.status_code
        return response.status_code

    def baseline(serial: int) -> None:
        assert client.get("/bench/baseline").status_code == 404

    duplicate_body = order_body(0)
    deliver(duplicate_body, "event-duplicate")
    bad_body = order_body(-1)

    def intake_bad_signature(serial: int) -> None:
        response = client.post(
            "/webhooks/",
            data=bad_body,
            content_type="application/json",
            headers={
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": "AAAA",
                "X-Shopify-Shop-Domain": shop.domain,
                "X-Shopify-Event-Id": f"bad-{serial}",
            },
        )
        assert response.status_code == 401

    def process(serial: int) -> None:
        event_id = f"event-process-{serial}"
        deliver(order_body(500_000 + serial), event_id)
        pk = WebhookEvent.objects.get(shop=shop, event_id=event_id).pk
        webhook_event_process(pk)

    def intake_then_nothing(serial: int) -> None:
        deliver(order_body(500_000 + serial + 10_000_000), f"event-intake-only-{serial}")

    def import_one_order(serial: int) -> None:
        node = {
            "id": f"gid://shopify/Order/{900_000 + serial}",
            "name": f"#{serial}",
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "currencyCode": "USD",
            "displayFinancialStatus": "PAID",
            "displayFulfillmentStatus": "FULFILLED",
            "totalPriceSet": {"shopMoney": {"amount": "42.00", "currencyCode": "USD"}},
            "subtotalPriceSet": {"shopMoney": {"amount": "40.00", "currencyCode": "USD"}},
            "customer": {"id": f"gid://shopify/Customer/{serial % 50 + 1}"},
        }
        items = [
            {
                "id": f"gid://shopify/LineItem/{serial * 10 + n}",
                "quantity": 1,
                "title": "Tee",
                "sku": "TEE-M",
                "variant": {"id": "gid://shopify/ProductVariant/1"},
                "product": {"id": "gid://shopify/Product/1"},
                "originalUnitPriceSet": {"shopMoney": {"amount": "20.00", "currencyCode": "USD"}},
                "__parentId": node["id"],
            }
            for n in range(2)
        ]
        backfill = Backfill(shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.ORDERS)
        backfill.save()
        backfill_import_lines(backfill, [json.dumps(node), *(json.dumps(item) for item in items)])
        Backfill.objects.filter(pk=backfill.pk).update(status=Backfill.Status.DONE)

    figures = {
        "webhook intake, new event": (intake_then_nothing, 60),
        "webhook intake, duplicate": (lambda serial: deliver(duplicate_body, "event-duplicate"), 60),
        "webhook intake, bad signature": (intake_bad_signature, 60),
        "webhook intake and processing, orders/create": (process, 30),
        "backfill import, one order with two lines": (import_one_order, 30),
    }
    baseline_seconds = per_operation(baseline, 100)
    results: dict[str, Any] = {}
    print(f"baseline (a 404 through the middleware): {baseline_seconds * 1e6:,.0f} us\n")
    print(f"{'figure':<48} {'us/op':>10} {'x baseline':>11}")
    for name, (operation, count) in figures.items():
        seconds = per_operation(operation, count)
        ratio = seconds / baseline_seconds
        results[name] = {
            "microseconds_per_operation": round(seconds * 1e6, 1),
            "ratio_to_baseline": round(ratio, 2),
        }
        print(f"{name:<48} {seconds * 1e6:>10,.0f} {ratio:>10.2f}x")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(),
                "python": platform.python_version(),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "baseline": {
                    "name": "a 404 through the middleware",
                    "microseconds_per_operation": round(baseline_seconds * 1e6, 1),
                },
                "figures": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
