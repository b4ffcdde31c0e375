"""`make bench` (`python -m bench`, `python -m bench --short`): Omakase's hot paths on PostgreSQL and
Redis, as production runs them, each figure beside a baseline measured in the same run (these
machines are shared and noisy: only ratios mean much from one run to the next).

- baseline_rps: a bare Django view (bench/urls.py) answering 200 on the same gunicorn server;
- webhook_intake_rps and webhook_intake_p99_ms: new signed orders/create deliveries, from 16
  concurrent connections on loopback (bench/load.py, a process of its own);
- worker_order_events_per_s: a real Celery worker process consuming stored orders/create events,
  each sent to it as intake sends them;
- backfill_orders_per_s: the install backfill importing a bulk operation's orders (two lines
  each) into our tables.

The bench creates its database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
omakase_bench; it refuses one whose name does not say "bench", since it drops it at the end) and
uses Redis database 14 as its broker (CELERY_BROKER_URL) and 13 as its cache (REDIS_URL). Results
go to bench/results.json (BENCH_RESULTS to write elsewhere). `--short` (or BENCH_SHORT=1) runs
small counts and asserts no timing, for CI: it checks that every figure can be measured and that
the worker processed every event once.
"""

from __future__ import annotations

import argparse
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
CONNECTIONS = 16

# The targets of issue 9 (items 11 and 12).
TARGET_INTAKE_RATIO = 0.5
TARGET_INTAKE_P99_MS = 25.0
TARGET_BACKFILL_ORDERS_PER_S = 2000.0
TARGET_WORKER_EVENTS_PER_S = 500.0


@dataclass(frozen=True)
class Sizes:
    rounds: int  # of baseline then intake, alternated so that both meet the same noise
    seconds_per_round: float
    worker_events: int
    backfill_customers: int
    backfill_orders: int


FULL = Sizes(
    rounds=3, seconds_per_round=5.0, worker_events=5000, backfill_customers=2000, backfill_orders=20_000
)
SHORT = Sizes(rounds=1, seconds_per_round=0.5, worker_events=150, backfill_customers=50, backfill_orders=300)


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


def load(kind: str, port: int, seconds: float, env: dict[str, str], first_serial: int = 0) -> dict[str, Any]:
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
        str(CONNECTIONS),
        # More than the server can answer in the time: prepared before the clock starts.
        "--most",
        str(int(seconds * 5000) + 100),
        "--first-serial",
        str(first_serial),
        "--shop",
        SHOP_DOMAIN,
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


def measure_http(sizes: Sizes, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """baseline_rps, webhook_intake_rps and webhook_intake_p99_ms on one gunicorn server: rounds
    of the baseline then intake, each figure the median of its rounds."""
    port = free_port()
    log = workdir / "gunicorn.log"
    # As README's "Running in production" runs it: sync workers, twice the cores.
    workers = str(2 * (os.cpu_count() or 1))
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", workers, "--timeout", "30"]
    command += ["--bind", f"127.0.0.1:{port}", "--backlog", "256"]
    rounds: list[dict[str, Any]] = []
    serial = 0
    with process(command, env, log) as server:
        wait_until("gunicorn answering", lambda: answers(port), 60, server, log)
        # Warm every worker (imports, connections) before anything is counted.
        load("baseline", port, 0.5, env)
        load("webhook", port, 0.5, env, first_serial=10_000_000)
        for _ in range(sizes.rounds):
            baseline = load("baseline", port, sizes.seconds_per_round, env)
            intake = load("webhook", port, sizes.seconds_per_round, env, first_serial=serial)
            serial += intake["requests"]
            rounds.append({"baseline": baseline, "intake": intake})
    for name in ("baseline", "intake"):
        for each in rounds:
            run = each[name]
            unexpected = {status: count for status, count in run["statuses"].items() if status != "200"}
            if unexpected:
                sys.exit(f"bench: {name} answered {unexpected} besides 200; see {log}")
    baseline_rps = statistics.median(r["baseline"]["requests"] / r["baseline"]["seconds"] for r in rounds)
    intake_rps = statistics.median(r["intake"]["requests"] / r["intake"]["seconds"] for r in rounds)
    intake_p99 = statistics.median(percentile(r["intake"]["latencies_ms"], 0.99) for r in rounds)
    baseline_p99 = statistics.median(percentile(r["baseline"]["latencies_ms"], 0.99) for r in rounds)
    return {
        "baseline_rps": baseline_rps,
        "baseline_p99_ms": baseline_p99,
        "webhook_intake_rps": intake_rps,
        "webhook_intake_p99_ms": intake_p99,
        "webhook_intake_p50_ms": statistics.median(
            percentile(r["intake"]["latencies_ms"], 0.5) for r in rounds
        ),
        "webhooks_stored": serial,
        "gunicorn_workers": int(workers),
        "rounds": [
            {
                name: {
                    "requests": r[name]["requests"],
                    "rps": round(r[name]["requests"] / r[name]["seconds"], 1),
                    "p99_ms": percentile(r[name]["latencies_ms"], 0.99),
                }
                for name in ("baseline", "intake")
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


def table(results: dict[str, Any]) -> str:
    baseline = results["baseline_rps"]
    rows = [
        ("baseline (bare view), requests/s", baseline, baseline, ""),
        ("webhook intake, requests/s", results["webhook_intake_rps"], baseline, f">= {TARGET_INTAKE_RATIO}x"),
        (
            "worker, orders/create events/s",
            results["worker_order_events_per_s"],
            baseline,
            f">= {TARGET_WORKER_EVENTS_PER_S:,.0f}/s",
        ),
        (
            "backfill, orders/s",
            results["backfill_orders_per_s"],
            baseline,
            f">= {TARGET_BACKFILL_ORDERS_PER_S:,.0f}/s",
        ),
    ]
    lines = [f"{'figure':<36} {'value':>10} {'baseline':>10} {'ratio':>8}  target"]
    for name, value, against, target in rows:
        lines.append(f"{name:<36} {value:>10,.0f} {against:>10,.0f} {value / against:>7.2f}x  {target}")
    p99, baseline_p99 = results["webhook_intake_p99_ms"], results["baseline_p99_ms"]
    lines.append(
        f"{'webhook intake p99, ms':<36} {p99:>10.1f} {baseline_p99:>10.1f} {p99 / baseline_p99:>7.2f}x"
        f"  < {TARGET_INTAKE_P99_MS:.0f} ms"
    )
    return "\n".join(lines)


def targets_missed(results: dict[str, Any]) -> list[str]:
    missed = []
    if results["webhook_intake_rps"] < TARGET_INTAKE_RATIO * results["baseline_rps"]:
        missed.append("webhook intake below half the baseline's requests/s")
    if results["webhook_intake_p99_ms"] >= TARGET_INTAKE_P99_MS:
        missed.append("webhook intake p99 not under 25 ms")
    if results["backfill_orders_per_s"] < TARGET_BACKFILL_ORDERS_PER_S:
        missed.append("backfill below 2,000 orders/s")
    if results["worker_order_events_per_s"] < TARGET_WORKER_EVENTS_PER_S:
        missed.append("worker below 500 order events/s")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--short", action="store_true", help="small counts, no timing assertions (CI)")
    short = parser.parse_args().short or os.environ.get("BENCH_SHORT") == "1"
    sizes = SHORT if short else FULL
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
        results: dict[str, Any] = {}
        results.update(measure_http(sizes, env, workdir))
        results.update(measure_worker(sizes, env, workdir))
        results.update(measure_backfill(sizes))

    results = {
        **{key: round(value, 2) if isinstance(value, float) else value for key, value in results.items()},
        "webhook_intake_ratio": round(results["webhook_intake_rps"] / results["baseline_rps"], 3),
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
    print(table(results))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {results_path}")
    if short:
        return 0
    missed = targets_missed(results)
    for target in missed:
        print(f"target missed: {target}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
