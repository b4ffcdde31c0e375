"""devstore in-process (Starlette TestClient), a tiny webhook receiver, and small factories.

Nothing here touches the app or Django: devstore is tested as the stand-in for Shopify it is.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from devstore import catalog, customers
from devstore.config import AppToml, DevstoreConfig
from devstore.context import Devstore
from devstore.db import Row
from devstore.server import create_app

SHOP = "omakase-demo.myshopify.com"
OTHER_SHOP = "other-shop.myshopify.com"
API_KEY = "test-key"
API_SECRET = "test-secret"
VERSION = "2026-10"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint standing in for the app: records requests, answers scripted statuses."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    # Scripted answers (status, content type, body) for GET/POST; default: 200 "ok".
    answers: list[tuple[int, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)}")

    def topics(self) -> list[str]:
        with self.lock:
            return [r.headers.get("X-Shopify-Topic", "") for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            target = state["receiver"]
            with target.lock:
                target.requests.append(Received(self.path, dict(self.headers.items()), body))
                status, content_type, text = 200, "text/plain", "ok"
                if target.statuses:
                    status = target.statuses.pop(0)
                elif target.answers:
                    status, content_type, text = target.answers.pop(0)
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Set-Cookie", "app_session=secret")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST  # noqa: N815 - http.server's spelling

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_toml() -> AppToml:
    """No shopify.app.toml: every topic goes to APP_URL/webhooks/."""
    return AppToml()


@pytest.fixture
def config(tmp_path: Path, receiver: Receiver, app_toml: AppToml) -> DevstoreConfig:
    return DevstoreConfig(
        db_path=str(tmp_path / "devstore.sqlite3"),
        default_shop=SHOP,
        public_url="http://testserver",
        app_url=receiver.url,
        api_key=API_KEY,
        api_secret=API_SECRET,
        api_version=VERSION,
        app_toml=app_toml,
        extensions_dir=str(Path(__file__).parent / "fixtures" / "extensions"),
    )


@pytest.fixture
def client(config: DevstoreConfig) -> Iterator[TestClient]:
    app = create_app(config)
    with TestClient(app, headers={"Host": SHOP}) as test_client:
        yield test_client


@pytest.fixture
def ds(client: TestClient) -> Devstore:
    store: Devstore = client.app.state.ds  # type: ignore[attr-defined]
    store.settings.webhooks.backoff_scale = 0.0005
    return store


@pytest.fixture
def shop(ds: Devstore) -> Row:
    row = ds.db.one("SELECT * FROM shops WHERE domain = ?", (SHOP,))
    assert row is not None
    return row


@pytest.fixture
def other_shop(client: TestClient, ds: Devstore) -> Row:
    client.post("/_devstore/shops", json={"domain": OTHER_SHOP})
    row = ds.db.one("SELECT * FROM shops WHERE domain = ?", (OTHER_SHOP,))
    assert row is not None
    return row


@pytest.fixture
def token(client: TestClient, shop: Row) -> str:
    return str(client.post("/_devstore/access-token", json={"shop": SHOP}).json()["access_token"])


GraphQL = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(client: TestClient, token: str) -> GraphQL:
    def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        host: str = SHOP,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        response = client.post(
            f"/admin/api/{VERSION}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"Host": host, "X-Shopify-Access-Token": access_token or token},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
def product(ds: Devstore, shop: Row) -> Row:
    return catalog.product_create(
        ds.db,
        shop["id"],
        title="Linen Camp Shirt",
        product_type="Shirts",
        tags=["linen"],
        options=["Size", "Color"],
        variants=[
            {
                "price": "60.00",
                "sku": f"LCS-{size}",
                "inventory_quantity": stock,
                "options": [{"name": "Size", "value": size}, {"name": "Color", "value": "Sand"}],
            }
            for size, stock in (("S", 5), ("M", 0), ("L", 3))
        ],
    )


@pytest.fixture
def variant_ids(ds: Devstore, product: Row) -> list[int]:
    return [v["id"] for v in catalog.product_variants(ds.db, product["id"])]


@pytest.fixture
def customer(ds: Devstore, shop: Row) -> Row:
    return customers.customer_create(
        ds.db,
        shop["id"],
        email="ana@example.com",
        first_name="Ana",
        last_name="Silva",
        address={
            "city": "Perth",
            "province": "Western Australia",
            "province_code": "WA",
            "country": "Australia",
            "country_code": "AU",
            "zip": "6000",
        },
    )
