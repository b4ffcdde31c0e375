"""The broker (a Redis server process of this test's own) killed while Shopify delivers webhooks to
the live app, then started again, empty: every delivery is answered 200 in under a second
throughout, and once a real worker reconnects and beat's sweeper runs, every event is stored once
and processed once, those whose wake-ups died with the broker included."""

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from commerce.models import Order
from config.celery import app as celery_app
from shop_app.models import Shop, WorkStatus
from tests.live import free_port, wait_for
from tests.webhooks.conftest import payload, webhook_headers
from webhooks.models import WebhookEvent
from webhooks.processing import webhook_events_sweep

pytestmark = pytest.mark.integration

# Deliveries before the broker is killed, while it is down, and after it is back.
PER_PHASE = 60
# Every so many deliveries, Shopify delivers the same event again.
DUPLICATE_EVERY = 10


@dataclass
class RedisServer:
    """A redis-server process on a port of its own, without persistence: killed, it loses every
    message it held, as a broker whose machine died would."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        where = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            ["redis-server", *where, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers() -> bool:
            """the broker answers PING"""
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for(answers, timeout=20)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def worker_environment(broker: RedisServer) -> dict[str, str]:
    return {"CELERY_BROKER_URL": broker.url}


@pytest.fixture
def app_on_the_broker(broker: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live app (this process) publishes its wake-ups to the test's broker. Celery reads the
    broker's address from the environment before its configuration: both are patched."""
    monkeypatch.setattr(celery_app.conf, "broker_url", broker.url)
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(celery_app, "_pool", None)
    assert celery_app.conf.broker_write_url == broker.url


@dataclass
class Shopify:
    """Shopify delivering orders/create to the live app, each answer timed."""

    shop: Shop
    webhooks_url: str
    http: httpx.Client = field(default_factory=httpx.Client)
    answers: list[tuple[int, float, str]] = field(default_factory=list)
    delivered: int = 0

    def deliver(self, count: int) -> None:
        for _ in range(count):
            number = self.delivered
            self.delivered += 1
            body = {**payload("orders_create"), "id": 990_000 + number, "name": f"#{990_000 + number}"}
            times = 2 if number % DUPLICATE_EVERY == 0 else 1
            for _ in range(times):
                self.post(json.dumps(body).encode(), f"broker-outage-{number}")

    def post(self, raw: bytes, event_id: str) -> None:
        headers = webhook_headers(self.shop.domain, "orders/create", raw, event_id=event_id)
        started = time.monotonic()
        answer = self.http.post(self.webhooks_url, content=raw, headers=headers, timeout=10)
        self.answers.append((answer.status_code, time.monotonic() - started, answer.json()["outcome"]))


def test_the_broker_stopped_during_intake_loses_no_event_and_delays_no_answer(
    shop: Shop,
    broker: RedisServer,
    app_on_the_broker: None,
    celery_worker_process: subprocess.Popen[str],
    live_server: Any,
    settings: Any,
) -> None:
    events = WebhookEvent.objects.for_shop(shop)
    shopify = Shopify(shop, f"{live_server.url}/webhooks/")

    # Given orders delivered while the broker runs and a worker takes them
    shopify.deliver(PER_PHASE)

    # When the broker is killed with what it held, deliveries go on, and it comes back empty
    broker.kill()
    shopify.deliver(PER_PHASE)
    broker.start()
    shopify.deliver(PER_PHASE)

    # Then every delivery was answered at once, 200, and each event stored once
    statuses = {status for status, _, _ in shopify.answers}
    slowest = max(seconds for _, seconds, _ in shopify.answers)
    assert statuses == {200}
    assert slowest < 1.0, f"an answer took {slowest:.2f} s"
    assert [outcome for _, _, outcome in shopify.answers].count(
        "duplicate"
    ) == 3 * PER_PHASE // DUPLICATE_EVERY
    assert events.count() == shopify.delivered
    waiting = events.filter(status=WorkStatus.PENDING).count()

    # And once beat's sweeper sends again what waits (due at once here: no grace), the worker
    # reconnected to the broker processes every event once
    settings.WORK_SWEEP_GRACE_SECONDS = 0

    def all_done() -> bool:
        """every event is done (the sweeper sends what still waits, as beat does each minute)"""
        if events.exclude(status=WorkStatus.DONE).exists():
            webhook_events_sweep()
            return False
        return True

    wait_for(all_done, timeout=90, interval=2)
    assert waiting > 0, "no event waited for the sweeper: the outage was not felt"
    assert list(events.values_list("attempts", flat=True).distinct()) == [1]
    assert Order.objects.for_shop(shop).count() == shopify.delivered
