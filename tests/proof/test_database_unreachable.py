"""The app (gunicorn, a process of its own) losing its database: PostgreSQL is reached through a
relay this test breaks, refusing connections and cutting those open, or cutting one the moment the
app sends a given statement. Every request then answers 503 (Shopify retries a webhook, a
storefront or admin caller can try again), nothing is half-written (PostgreSQL rolls back what the
cut connection held), and once the database is back the same requests do their work once."""

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from loyalty.models import Entry, Lot, Member
from loyalty.program import program_for
from shop_app.models import Shop
from tests.live import AppServer, AppServerStart, database_url_of_this_test
from tests.storefront import proxy_url, signed_proxy_query
from tests.webhooks.conftest import payload, webhook_headers
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.integration

SHOPPER = 4242


class DatabaseRelay:
    """A TCP relay from a port of its own to PostgreSQL that a test can break: `down()` refuses
    new connections and cuts the open ones, `up()` listens again on the same port, and
    `cut_when_sent(text)` cuts the connection that sends `text` (which never reaches PostgreSQL)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.cut_on: bytes | None = None
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # socket listening until that thread returns.
            self._close(self._listener)
            self._listener = None
        with self._lock:
            sockets, self._open = self._open, []
        for each in sockets:
            self._close(each)

    def cut_when_sent(self, text: bytes) -> None:
        self.cut_on = text

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by down()
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_app: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_app and self.cut_on is not None and self.cut_on in data:
                    self.cut_on = None
                    break
                sink.sendall(data)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    @staticmethod
    def _close(each: socket.socket) -> None:
        with contextlib.suppress(OSError):
            each.shutdown(socket.SHUT_RDWR)
        each.close()


@pytest.fixture
def relay() -> Iterator[DatabaseRelay]:
    database = urlsplit(database_url_of_this_test())
    relay = DatabaseRelay(database.hostname or "127.0.0.1", database.port or 5432)
    yield relay
    relay.down()


@pytest.fixture
def app_server(relay: DatabaseRelay, app_server_process: AppServerStart, real_broker: None) -> AppServer:
    """The app under gunicorn, its database reached through the relay; connections kept between
    requests, as in production, so that an outage breaks one already open."""
    database = urlsplit(database_url_of_this_test())
    through_relay = database._replace(netloc=f"{database.username}@127.0.0.1:{relay.port}").geturl()
    return app_server_process({"DATABASE_URL": through_relay, "DATABASE_CONN_MAX_AGE": "60"})


def deliver(app: AppServer, shop: Shop, event_id: str) -> httpx.Response:
    raw = json.dumps({**payload("orders_create"), "id": 770_001}).encode()
    headers = webhook_headers(shop.domain, "orders/create", raw, event_id=event_id)
    return httpx.post(f"{app.url}/webhooks/", content=raw, headers=headers, timeout=30)


def test_with_the_database_unreachable_webhooks_get_503_and_shopify_s_retry_is_stored_once(
    shop: Shop, relay: DatabaseRelay, app_server: AppServer
) -> None:
    # Given the app answering, with a connection to its database open
    assert deliver(app_server, shop, "before-the-outage").status_code == 200

    # When the database becomes unreachable
    relay.down()
    during = deliver(app_server, shop, "during-the-outage")
    health = httpx.get(f"{app_server.url}/healthz", timeout=30)
    widget = httpx.get(
        app_server.url + proxy_url("loyalty", signed_proxy_query(shop.domain, customer_id=SHOPPER)),
        timeout=30,
    )

    # Then Shopify gets a 503, and so do the health check and the storefront, and nothing is stored
    assert during.status_code == 503
    assert (health.status_code, health.json()["down"]) == (503, ["database"])
    assert widget.status_code == 503
    assert not WebhookEvent.objects.filter(event_id="during-the-outage").exists()

    # And once it is back, Shopify's retry is stored, once
    relay.up()
    retried = deliver(app_server, shop, "during-the-outage")
    again = deliver(app_server, shop, "during-the-outage")
    assert (retried.status_code, retried.json()["outcome"]) == (200, "stored")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert WebhookEvent.objects.filter(event_id="during-the-outage").count() == 1


def test_a_write_cut_off_mid_transaction_leaves_nothing_half_written(
    shop: Shop, relay: DatabaseRelay, app_server: AppServer
) -> None:
    # Given a loyalty program, and a shopper about to join it through the storefront
    notice = program_for(shop).incentive_notice_version
    url = app_server.url + proxy_url("loyalty/join", signed_proxy_query(shop.domain, customer_id=SHOPPER))

    # When the database connection is cut as the app writes the join points' lot, after the member
    # and the ledger entry, in the same transaction
    relay.cut_when_sent(f'INSERT INTO "{Lot._meta.db_table}"'.encode())
    cut = httpx.post(url, json={"notice_version": notice}, timeout=30)

    # Then the shopper gets a 503, and none of it was kept: no member joined, no entry, no lot
    assert cut.status_code == 503
    assert relay.cut_on is None, "the relay never saw the write it was to cut"
    assert not Member.objects.for_shop(shop).filter(joined_at__isnull=False).exists()
    assert not Entry.objects.for_shop(shop).exists()
    assert not Lot.objects.for_shop(shop).exists()

    # And the same request again joins once, with the join points once
    joined = httpx.post(url, json={"notice_version": notice}, timeout=30)
    assert joined.status_code == 200, joined.text
    assert Member.objects.for_shop(shop).filter(joined_at__isnull=False).count() == 1
    assert list(Entry.objects.for_shop(shop).values_list("kind", flat=True)) == [Entry.Kind.JOIN]
    assert Lot.objects.for_shop(shop).count() == 1
