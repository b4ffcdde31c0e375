"""`make bench` (`python -m bench`, `python -m bench --short`): Omakase's hot paths on PostgreSQL and
Redis, as production runs them, each figure beside a baseline measured in the same run (these
machines are shared and noisy: only ratios mean much from one run to the next).

- baseline_rps: a bare Django view (bench/urls.py) answering 200 on the same gunicorn server;
- webhook_intake_rps and webhook_intake_p99_ms: new signed orders/create deliveries, from 16
  concurrent connections on loopback (bench/load.py, a process of its own);
- worker_order_events_per_s: a real Celery worker process consuming stored orders/create events,
  each sent to it as intake sends them;
- backfill_orders_per_s: the install backfill importing a bulk operation's orders (two lines
  each) into our tables;
- proxy_block_rps and proxy_block_p99_ms: signed-in shoppers' GET /proxy/recommendations?block=for-you
  through the app proxy's signature, on the same server, for a shop of PROXY_PRODUCTS products and
  `proxy_shoppers` shoppers whose candidates were precomputed (and with them each shopper's block
  ranked and kept, personalize.served, as the nightly run leaves a live shop); proxy_server_p99_ms
  beside baseline_server_p99_ms: the same requests one at a time (one connection), what the server
  spends on each with no queue in front of it; proxy_cold_server_p99_ms: one at a time for
  shoppers whose kept block was forgotten (as after they changed something), ranked on the request;
- profile_recompute_orders_per_s beside profile_scan_orders_per_s (bench/profiles.py): every
  shopper's profile recomputed, beside a plain read of the same rows;
- newsletter_emails_per_s beside newsletter_plain_render_per_s (bench/newsletters.py): issues
  rendered and sent to an SMTP sink, beside rendering alone; and sent to aiosmtpd, beside what
  aiosmtpd takes of one written email sent again and again;
- redemptions_per_s beside adjustments_per_s (bench/loyalty.py);
- storefront_js_gzip_bytes: the theme extension's scripts, gzipped, beside their budget;
- storefront_fill_ms and storefront_layout_shift_added (bench/storefront.py, not with --short):
  in a real Chromium on devstore's home, product and collection pages, the blocks filled after
  first paint and the layout shift they add, beside the same pages without them.

The bench creates its database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
omakase_bench; it refuses one whose name does not say "bench", since it drops it at the end) and
uses Redis database 14 as its broker (CELERY_BROKER_URL) and 13 as its cache (REDIS_URL). Results
go to bench/results.json (BENCH_RESULTS to write elsewhere). `--short` (or BENCH_SHORT=1) runs
small counts and asserts no timing, for CI: it checks that every figure can be measured and that
the worker processed every event once.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests" / "webhooks" / "payloads" / "orders_create.json"
RESULTS = ROOT / "bench" / "results.json"
SHOP_DOMAIN = "bench-shop.myshopify.com"
PROXY_SHOP_DOMAIN = "bench-proxy.myshopify.com"
THEME_SCRIPTS = ROOT / "extensions" / "omakase-theme" / "assets"
CONNECTIONS = 16

# The targets of issue 9 (items 11 and 12) and issue 16.
TARGET_INTAKE_RATIO = 0.5
TARGET_INTAKE_P99_MS = 25.0
TARGET_PROXY_RATIO = 0.4
TARGET_PROXY_P99_MS = 30.0
TARGET_BACKFILL_ORDERS_PER_S = 2000.0
TARGET_WORKER_EVENTS_PER_S = 500.0
# Profile recompute within 3x the time of a plain scan of the same rows.
TARGET_RECOMPUTE_TO_SCAN = 3.0
# A block's server time, one request at a time, with 5,000 products (issue 11).
TARGET_SERVING_P99_MS = 15.0
# The storefront's blocks filled after first paint, and the layout shift they add (issue 12).
TARGET_FILL_MS = 300.0
TARGET_LAYOUT_SHIFT_ADDED = 0.0
# Personalized issue emails handed to SMTP with two workers (issue 13).
TARGET_NEWSLETTER_EMAILS_PER_S = 1000.0
# The Overview's page data on a shop with a million orders (issue 15).
TARGET_OVERVIEW_MS = 200.0
# The theme extension's scripts, gzipped (tests/devstore/test_theme_extension.py holds the same).
JAVASCRIPT_GZIPPED_BUDGET = 10 * 1024


@dataclass(frozen=True)
class Sizes:
    rounds: int  # of baseline, intake and proxy, alternated so that all meet the same noise
    seconds_per_round: float
    worker_events: int
    backfill_customers: int
    backfill_orders: int
    proxy_shoppers: int
    proxy_products: int
    profile_orders: int
    newsletter_emails: int
    redemptions: int
    overview_orders: int


FULL = Sizes(
    rounds=5,
    seconds_per_round=4.0,
    worker_events=5000,
    backfill_customers=2000,
    backfill_orders=20_000,
    proxy_shoppers=100_000,  # as issue 11 asks; generating and precomputing them takes minutes
    proxy_products=5000,
    profile_orders=1_000_000,
    newsletter_emails=500,
    redemptions=300,
    overview_orders=1_000_000,
)
SHORT = Sizes(
    rounds=1,
    seconds_per_round=0.5,
    worker_events=150,
    backfill_customers=50,
    backfill_orders=300,
    proxy_shoppers=200,
    proxy_products=50,
    profile_orders=4000,
    newsletter_emails=10,
    redemptions=10,
    overview_orders=2000,
)


def environment() -> dict[str, str]:
    """What the server, the worker and this process run with: production settings and secrets of
    the bench's own."""
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/omakase_bench")
    name = urlsplit(database_url).path.lstrip("/")
    if not database_url.startswith(("postgres://", "postgresql://")) or "bench" not in name:
        sys.exit(
            f"bench: DATABASE_URL must name a PostgreSQL database called *bench* (it is dropped): {name!r}"
        )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "DJANGO_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOPIFY_API_KEY": "bench-api-key",
        "SHOPIFY_API_SECRET": "bench-shopify-api-secret-of-a-real-length",
        "APP_URL": "https://bench.example",
        # A Fernet key (32 bytes, urlsafe base64): the bench stores no token.
        "TOKEN_ENCRYPTION_KEYS": "b21ha2FzZS1iZW5jaC10b2tlbi1rZXktMzItYnl0ZXM=",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def bench_database(database_url: str) -> Iterator[None]:
    """The bench's database, created empty and dropped at the end."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))

    def run(statement: str) -> None:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, logging to `log`, stopped (TERM, then KILL) at the end."""
    with log.open("wb") as output:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_until(what: str, condition: Any, timeout: float, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            sys.exit(f"bench: {what}: the process ended ({child.returncode}); see {log}")
        if condition():
            return
        time.sleep(0.05)
    sys.exit(f"bench: {what} within {timeout} s did not happen; see {log}")


def answers(port: int) -> bool:
    import httpx

    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/bench/baseline", headers={"X-Forwarded-Proto": "https"}, timeout=1
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def load(
    kind: str,
    port: int,
    seconds: float,
    env: dict[str, str],
    *,
    first_serial: int = 0,
    shoppers: int = 1,
    connections: int = CONNECTIONS,
) -> dict[str, Any]:
    """One closed-loop run of the load generator (bench/load.py) in its own process."""
    command = [
        sys.executable,
        "-m",
        "bench.load",
        kind,
        "--port",
        str(port),
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
        # More than the server can answer in the time: prepared before the clock starts.
        "--most",
        str(int(seconds * 5000) + 100),
        "--first-serial",
        str(first_serial),
        "--shop",
        PROXY_SHOP_DOMAIN if kind == "proxy" else SHOP_DOMAIN,
        "--shoppers",
        str(shoppers),
        "--secret",
        env["SHOPIFY_API_SECRET"],
        "--payload",
        str(PAYLOAD),
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
    result: dict[str, Any] = json.loads(finished.stdout)
    if result["ran_out_of_requests"]:
        sys.exit(f"bench: the load generator ran out of prepared {kind} requests; prepare more")
    return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def proxy_shop_prepare(sizes: Sizes) -> None:
    """The proxy's shop: a catalog and shoppers with their histories (bench/profiles.py), every
    profile computed and the candidates precomputed, as the nightly run leaves a live shop."""
    from django.utils import timezone

    from bench.profiles import AS_OF, ORDERS_PER_SHOPPER, shop_generate
    from personalize.candidates import candidates_precompute
    from personalize.refresh import profiles_recompute_all
    from shop_app.models import Shop

    shop = Shop.objects.create(domain=PROXY_SHOP_DOMAIN, installed_at=timezone.now(), currency="USD")
    shop_generate(shop, sizes.proxy_shoppers * ORDERS_PER_SHOPPER, products=sizes.proxy_products)
    profiles_recompute_all(shop, as_of=AS_OF)
    candidates_precompute(shop)


HTTP_KINDS = ("baseline", "intake", "proxy", "baseline_alone", "proxy_alone", "proxy_cold_alone")
# Requests of a round's one-at-a-time cold run, for which the shoppers' kept blocks are forgotten.
COLD_REQUESTS = 2_000


def kept_blocks_forget(first_serial: int, shoppers: int) -> None:
    """Forget the kept blocks (personalize.served) of the shoppers the load generator asks for from
    `first_serial` on, as a change to what they are ranked from would: their next block is ranked
    afresh."""
    from personalize.served import served_forget
    from shop_app.models import Shop

    shop = Shop.objects.get(domain=PROXY_SHOP_DOMAIN)
    served_forget(shop, [1 + (first_serial + serial) % shoppers for serial in range(COLD_REQUESTS)])


def measure_http(sizes: Sizes, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """baseline_rps, webhook_intake_* and proxy_block_* on one gunicorn server: rounds of the
    baseline, intake and the proxy block in turn, each figure the median of its rounds."""
    port = free_port()
    log = workdir / "gunicorn.log"
    # As README's "Running in production" runs it: sync workers, twice the cores.
    workers = str(2 * (os.cpu_count() or 1))
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", workers, "--timeout", "30"]
    command += ["--bind", f"127.0.0.1:{port}", "--backlog", "256"]
    rounds: list[dict[str, Any]] = []
    serial = 0
    shoppers = sizes.proxy_shoppers
    with process(command, env, log) as server:
        wait_until("gunicorn answering", lambda: answers(port), 60, server, log)
        # Warm every worker (imports, connections) before anything is counted.
        load("baseline", port, 0.5, env)
        load("webhook", port, 0.5, env, first_serial=10_000_000)
        load("proxy", port, 0.5, env, shoppers=shoppers)
        for number in range(sizes.rounds):
            baseline = load("baseline", port, sizes.seconds_per_round, env)
            intake = load("webhook", port, sizes.seconds_per_round, env, first_serial=serial)
            serial += intake["requests"]
            # Each round's shoppers start where the last one's stopped (a different shopper per request).
            proxy = load(
                "proxy", port, sizes.seconds_per_round, env, first_serial=number * 50_000, shoppers=shoppers
            )
            # One request at a time: what the server spends on each, with no queue in front of it.
            alone = {
                "baseline_alone": load("baseline", port, sizes.seconds_per_round / 2, env, connections=1),
                "proxy_alone": load(
                    "proxy",
                    port,
                    sizes.seconds_per_round / 2,
                    env,
                    first_serial=number * 50_000 + 25_000,
                    shoppers=shoppers,
                    connections=1,
                ),
            }
            # The same, for shoppers whose block is ranked on the request (their kept one forgotten).
            cold_first = number * 50_000 + 37_500
            kept_blocks_forget(cold_first, shoppers)
            alone["proxy_cold_alone"] = load(
                "proxy",
                port,
                sizes.seconds_per_round / 2,
                env,
                first_serial=cold_first,
                shoppers=shoppers,
                connections=1,
            )
            rounds.append({"baseline": baseline, "intake": intake, "proxy": proxy, **alone})
    for name in HTTP_KINDS:
        for each in rounds:
            run = each[name]
            unexpected = {status: count for status, count in run["statuses"].items() if status != "200"}
            if unexpected:
                sys.exit(f"bench: {name} answered {unexpected} besides 200; see {log}")

    def rps(name: str) -> float:
        return statistics.median(r[name]["requests"] / r[name]["seconds"] for r in rounds)

    def latency(name: str, fraction: float) -> float:
        return statistics.median(percentile(r[name]["latencies_ms"], fraction) for r in rounds)

    return {
        "baseline_rps": rps("baseline"),
        "baseline_p99_ms": latency("baseline", 0.99),
        "webhook_intake_rps": rps("intake"),
        "webhook_intake_p99_ms": latency("intake", 0.99),
        "webhook_intake_p50_ms": latency("intake", 0.5),
        "proxy_block_rps": rps("proxy"),
        "proxy_block_p99_ms": latency("proxy", 0.99),
        "proxy_block_p50_ms": latency("proxy", 0.5),
        "proxy_server_p99_ms": latency("proxy_alone", 0.99),
        "proxy_server_p50_ms": latency("proxy_alone", 0.5),
        "proxy_cold_server_p99_ms": latency("proxy_cold_alone", 0.99),
        "proxy_cold_server_p50_ms": latency("proxy_cold_alone", 0.5),
        "baseline_server_p99_ms": latency("baseline_alone", 0.99),
        "proxy_shoppers": shoppers,
        "proxy_products": sizes.proxy_products,
        "webhooks_stored": serial,
        "gunicorn_workers": int(workers),
        "rounds": [
            {
                name: {
                    "requests": r[name]["requests"],
                    "rps": round(r[name]["requests"] / r[name]["seconds"], 1),
                    "p99_ms": percentile(r[name]["latencies_ms"], 0.99),
                }
                for name in HTTP_KINDS
            }
            for r in rounds
        ],
    }


def order_payload(template: dict[str, Any], serial: int) -> str:
    """An orders/create payload of an order of its own, with one of 200 shoppers."""
    customer = {
        **template["customer"],
        "id": 700_000 + serial % 200,
        "email": f"shopper{serial % 200}@example.com",
    }
    return json.dumps({**template, "id": 90_000_000 + serial, "name": f"#W{serial}", "customer": customer})


def measure_worker(sizes: Sizes, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """worker_order_events_per_s: events stored and sent as intake stores and sends them, then a
    worker process started as production starts one; the rate from its first claim to its last
    event done. Checks that every event was processed exactly once."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from commerce.models import Order
    from config.celery import app as celery_app
    from shop_app.models import Shop
    from webhooks.models import EventStatus, WebhookEvent
    from webhooks.processing import webhook_event_enqueue

    shop = Shop.objects.get(domain=SHOP_DOMAIN)
    # Intake's events are not this figure's: gone, with their messages.
    celery_app.control.purge()
    WebhookEvent.objects.all().delete()
    Order.objects.all().delete()
    template = json.loads(PAYLOAD.read_text())
    now = timezone.now()
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            shop=shop,
            topic="orders/create",
            event_id=f"worker-{serial}",
            triggered_at=now,
            body=order_payload(template, serial),
            received_at=now,
            available_at=now,
        )
        for serial in range(sizes.worker_events)
    )
    for event in events:
        if not webhook_event_enqueue(event.pk):
            sys.exit("bench: the broker refused a message")
    log = workdir / "worker.log"
    # As README's "Running in production" starts one (one worker, a process per core).
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--hostname", "bench@%h"]
    pending = WebhookEvent.objects.filter(status__in=[EventStatus.PENDING, EventStatus.PROCESSING])
    with process(command, env, log) as worker:
        wait_until("the worker processing every event", lambda: not pending.exists(), 600, worker, log)
    done = WebhookEvent.objects.filter(status=EventStatus.DONE)
    if done.count() != sizes.worker_events or Order.objects.count() != sizes.worker_events:
        sys.exit(
            f"bench: {done.count()} events done and {Order.objects.count()} orders stored,"
            f" of {sizes.worker_events}; see {log}"
        )
    span = done.aggregate(first=Min("claimed_at"), last=Max("processed_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return {
        "worker_order_events_per_s": sizes.worker_events / seconds,
        "worker_events": sizes.worker_events,
        "worker_seconds": seconds,
    }


def backfill_lines(sizes: Sizes) -> tuple[list[str], list[str]]:
    """Bulk operation JSONL as Shopify writes it: customers; orders, each followed by its lines."""
    customers = [
        json.dumps(
            {
                "id": f"gid://shopify/Customer/{number}",
                "email": f"customer{number}@example.com",
                "firstName": "Ada",
                "lastName": f"Shopper {number}",
                "createdAt": "2025-01-01T00:00:00Z",
                "updatedAt": "2025-01-01T00:00:00Z",
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED",
                    "marketingOptInLevel": "SINGLE_OPT_IN",
                    "consentUpdatedAt": "2025-01-01T00:00:00Z",
                },
            }
        )
        for number in range(1, sizes.backfill_customers + 1)
    ]
    money = {"shopMoney": {"amount": "20.00", "currencyCode": "EUR"}}
    orders: list[str] = []
    for number in range(1, sizes.backfill_orders + 1):
        order_id = f"gid://shopify/Order/{number}"
        orders.append(
            json.dumps(
                {
                    "id": order_id,
                    "name": f"#{number}",
                    "email": f"customer{number % sizes.backfill_customers + 1}@example.com",
                    "createdAt": "2025-06-01T00:00:00Z",
                    "updatedAt": "2025-06-01T00:00:00Z",
                    "currencyCode": "EUR",
                    "displayFinancialStatus": "PAID",
                    "displayFulfillmentStatus": "FULFILLED",
                    "totalPriceSet": {"shopMoney": {"amount": "40.00", "currencyCode": "EUR"}},
                    "subtotalPriceSet": {"shopMoney": {"amount": "40.00", "currencyCode": "EUR"}},
                    "customer": {"id": f"gid://shopify/Customer/{number % sizes.backfill_customers + 1}"},
                    "shippingAddress": {"city": "Lyon", "countryCodeV2": "FR", "zip": "69001"},
                }
            )
        )
        for line in range(2):
            orders.append(
                json.dumps(
                    {
                        "id": f"gid://shopify/LineItem/{number * 10 + line}",
                        "quantity": 1,
                        "title": "Tee",
                        "sku": f"TEE-{line}",
                        "variant": {"id": f"gid://shopify/ProductVariant/{line + 1}"},
                        "product": {"id": "gid://shopify/Product/1"},
                        "originalUnitPriceSet": money,
                        "__parentId": order_id,
                    }
                )
            )
    return customers, orders


def measure_backfill(sizes: Sizes) -> dict[str, Any]:
    """backfill_orders_per_s: the orders phase of an import, after its customers phase."""
    from commerce.backfill import backfill_import_lines
    from commerce.models import Backfill, Order, OrderLine
    from shop_app.models import Shop

    shop = Shop.objects.get(domain=SHOP_DOMAIN)
    Order.objects.all().delete()
    customers, orders = backfill_lines(sizes)
    backfill = Backfill.objects.create(
        shop=shop, status=Backfill.Status.RUNNING, phase=Backfill.Phase.CUSTOMERS
    )
    backfill_import_lines(backfill, customers, limit=len(customers))
    backfill.phase, backfill.lines_processed = Backfill.Phase.ORDERS, 0
    backfill.save()
    started = time.perf_counter()
    finished = backfill_import_lines(backfill, orders, limit=sizes.backfill_orders)
    seconds = time.perf_counter() - started
    if (
        not finished
        or Order.objects.count() != sizes.backfill_orders
        or OrderLine.objects.count() != 2 * sizes.backfill_orders
    ):
        sys.exit("bench: the backfill did not import every order and line")
    return {
        "backfill_orders_per_s": sizes.backfill_orders / seconds,
        "backfill_orders": sizes.backfill_orders,
        "backfill_seconds": seconds,
    }


@dataclass(frozen=True)
class Figure:
    """A row of the table: a figure beside its baseline from the same run, and its target."""

    name: str
    value: float
    baseline: float
    target: str
    met: bool | None  # None: no target, shown for the ratio


def figures(results: dict[str, Any]) -> list[Figure]:
    baseline = results["baseline_rps"]
    baseline_p99 = results["baseline_p99_ms"]
    intake, proxy = results["webhook_intake_rps"], results["proxy_block_rps"]
    scan, recompute = results["profile_scan_orders_per_s"], results["profile_recompute_orders_per_s"]
    js = results["storefront_js_gzip_bytes"]
    return [
        Figure(
            "webhook intake, requests/s",
            intake,
            baseline,
            f">= {TARGET_INTAKE_RATIO}x",
            intake >= TARGET_INTAKE_RATIO * baseline,
        ),
        Figure(
            "webhook intake p99, ms",
            results["webhook_intake_p99_ms"],
            baseline_p99,
            f"< {TARGET_INTAKE_P99_MS:.0f} ms",
            results["webhook_intake_p99_ms"] < TARGET_INTAKE_P99_MS,
        ),
        Figure(
            "proxy block, requests/s",
            proxy,
            baseline,
            f">= {TARGET_PROXY_RATIO}x",
            proxy >= TARGET_PROXY_RATIO * baseline,
        ),
        Figure(
            "proxy block p99, ms",
            results["proxy_block_p99_ms"],
            baseline_p99,
            f"< {TARGET_PROXY_P99_MS:.0f} ms",
            results["proxy_block_p99_ms"] < TARGET_PROXY_P99_MS,
        ),
        Figure(
            "proxy block p99 one at a time, ms",
            results["proxy_server_p99_ms"],
            results["baseline_server_p99_ms"],
            f"< {TARGET_SERVING_P99_MS:.0f} ms",
            results["proxy_server_p99_ms"] < TARGET_SERVING_P99_MS,
        ),
        Figure(
            "proxy block p99 one at a time, ranked anew, ms",
            results["proxy_cold_server_p99_ms"],
            results["baseline_server_p99_ms"],
            "(no target)",
            None,
        ),
        Figure(
            "worker, orders/create events/s",
            results["worker_order_events_per_s"],
            baseline,
            f">= {TARGET_WORKER_EVENTS_PER_S:,.0f}/s",
            results["worker_order_events_per_s"] >= TARGET_WORKER_EVENTS_PER_S,
        ),
        Figure(
            "backfill, orders/s",
            results["backfill_orders_per_s"],
            baseline,
            f">= {TARGET_BACKFILL_ORDERS_PER_S:,.0f}/s",
            results["backfill_orders_per_s"] >= TARGET_BACKFILL_ORDERS_PER_S,
        ),
        Figure(
            "profile recompute, orders/s (vs scan)",
            recompute,
            scan,
            f">= 1/{TARGET_RECOMPUTE_TO_SCAN:.0f}x",
            recompute * TARGET_RECOMPUTE_TO_SCAN >= scan,
        ),
        Figure(
            "newsletter emails/s (vs plain render)",
            results["newsletter_emails_per_s"],
            results["newsletter_plain_render_per_s"],
            f">= {TARGET_NEWSLETTER_EMAILS_PER_S:,.0f}/s",
            results["newsletter_emails_per_s"] >= TARGET_NEWSLETTER_EMAILS_PER_S,
        ),
        Figure(
            "newsletter emails/s to aiosmtpd (vs its SMTP only)",
            results["newsletter_emails_aiosmtpd_per_s"],
            results["newsletter_smtp_only_aiosmtpd_per_s"],
            "",
            None,
        ),
        Figure(
            "redemptions/s (vs adjustments)",
            results["redemptions_per_s"],
            results["adjustments_per_s"],
            "",
            None,
        ),
        Figure(
            "overview page data, ms (vs GET /api/shop)",
            results["overview_page_ms"],
            results["overview_baseline_ms"],
            f"< {TARGET_OVERVIEW_MS:.0f} ms",
            results["overview_page_ms"] < TARGET_OVERVIEW_MS,
        ),
        Figure(
            "storefront JS gzipped, bytes (vs budget)",
            js,
            JAVASCRIPT_GZIPPED_BUDGET,
            f"<= {JAVASCRIPT_GZIPPED_BUDGET:,} B",
            js <= JAVASCRIPT_GZIPPED_BUDGET,
        ),
        *storefront_figures(results),
    ]


def storefront_figures(results: dict[str, Any]) -> list[Figure]:
    """The browser's figures (bench/storefront.py), when this run measured them (not --short)."""
    if "storefront_fill_ms" not in results:
        return []
    return [
        Figure(
            "blocks filled after first paint, ms (vs paint)",
            results["storefront_fill_ms"],
            results["storefront_first_paint_ms_without_blocks"],
            f"<= {TARGET_FILL_MS:.0f} ms",
            results["storefront_fill_ms"] <= TARGET_FILL_MS,
        ),
        Figure(
            "layout shift added by the blocks",
            results["storefront_layout_shift_added"],
            0.0,
            f"{TARGET_LAYOUT_SHIFT_ADDED:.2f}",
            round(results["storefront_layout_shift_added"], 2) <= TARGET_LAYOUT_SHIFT_ADDED,
        ),
    ]


def table(rows: list[Figure]) -> str:
    lines = [f"{'figure':<42} {'value':>10} {'baseline':>10} {'ratio':>8}  {'target':<12} result"]
    for row in rows:
        ratio = row.value / row.baseline if row.baseline else float("nan")
        small = row.value < 100 and row.baseline < 100
        value, baseline = (
            (f"{row.value:>10.1f}", f"{row.baseline:>10.1f}")
            if small
            else (f"{row.value:>10,.0f}", f"{row.baseline:>10,.0f}")
        )
        result = "" if row.met is None else ("met" if row.met else "MISSED")
        lines.append(f"{row.name:<42} {value} {baseline} {ratio:>7.2f}x  {row.target:<12} {result}")
    return "\n".join(lines)


def storefront_js_gzip_bytes() -> int:
    """The theme extension's scripts as a browser fetches them: gzipped, summed."""
    return sum(
        len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in sorted(THEME_SCRIPTS.glob("*.js"))
    )


def measure_in_process(sizes: Sizes) -> dict[str, Any]:
    """The figures measured in this process, each on a shop of its own: profiles, newsletters,
    loyalty, the Overview."""
    from django.utils import timezone

    from bench.loyalty import loyalty_bench
    from bench.newsletters import newsletters_bench
    from bench.overview import overview_bench
    from bench.profiles import profiles_bench
    from shop_app.models import Shop

    def shop(name: str) -> Shop:
        return Shop.objects.create(
            domain=f"bench-{name}.myshopify.com", installed_at=timezone.now(), currency="USD"
        )

    results = profiles_bench(shop("profiles"), sizes.profile_orders)
    results.update(newsletters_bench(shop("newsletters"), sizes.newsletter_emails))
    loyalty = loyalty_bench(shop("loyalty"), sizes.redemptions)
    results.update(
        redemptions_per_s=loyalty["redemptions_per_s"], adjustments_per_s=loyalty["adjustments_per_s"]
    )
    overview = overview_bench(
        shop("overview"), sizes.overview_orders, customers=max(sizes.overview_orders // 10, 10)
    )
    results.update(
        overview_page_ms=overview["overview_page_ms"],
        overview_year_ms=overview["overview_year_ms"],
        overview_baseline_ms=overview["baseline_ms"],
        overview_rollup_build_s=overview["rollup_build_s"],
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--short", action="store_true", help="small counts, no timing assertions (CI)")
    short = parser.parse_args().short or os.environ.get("BENCH_SHORT") == "1"
    sizes = SHORT if short else FULL
    # The browser measurement runs the test suite's settings, not the bench server's.
    own_environment = dict(os.environ)
    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    results_path = Path(os.environ.get("BENCH_RESULTS", RESULTS))
    workdir = ROOT / "var" / "bench"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)

    with bench_database(env["DATABASE_URL"]):
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        from shop_app.models import Shop

        call_command("migrate", verbosity=0)
        Shop.objects.create(domain=SHOP_DOMAIN, installed_at=timezone.now(), currency="EUR")
        proxy_shop_prepare(sizes)
        results: dict[str, Any] = {}
        results.update(measure_http(sizes, env, workdir))
        results.update(measure_worker(sizes, env, workdir))
        results.update(measure_backfill(sizes))
        results.update(measure_in_process(sizes))
        results["storefront_js_gzip_bytes"] = storefront_js_gzip_bytes()
    if not short:
        # The end-to-end suite measures the same pages once per run in CI; here each page is loaded
        # several times, on a database of the measurement's own.
        from bench.storefront import MeasurementFailed, storefront_measure

        try:
            results.update(storefront_measure(own_environment, env["DATABASE_URL"], workdir))
        except MeasurementFailed as failure:
            # The other figures took minutes to measure: they are written, and the run fails.
            results["storefront_unmeasured"] = str(failure)
            print(failure, file=sys.stderr)

    results = {
        **{key: round(value, 2) if isinstance(value, float) else value for key, value in results.items()},
        "webhook_intake_ratio": round(results["webhook_intake_rps"] / results["baseline_rps"], 3),
        "proxy_block_ratio": round(results["proxy_block_rps"] / results["baseline_rps"], 3),
        "worker_ratio": round(results["worker_order_events_per_s"] / results["baseline_rps"], 3),
        "backfill_ratio": round(results["backfill_orders_per_s"] / results["baseline_rps"], 3),
        "short": short,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": "postgresql",
        "broker": "redis",
        "load_connections": CONNECTIONS,
    }
    rows = figures(results)
    results["targets"] = {row.name: row.met for row in rows if row.met is not None}
    print(table(rows))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {results_path}")
    if short:
        return 0
    return 1 if any(row.met is False for row in rows) or "storefront_unmeasured" in results else 0


if __name__ == "__main__":
    sys.exit(main())
