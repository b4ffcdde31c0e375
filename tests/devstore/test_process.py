"""`python -m devstore serve` as a real process, reached over HTTP with a myshopify Host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    db = tmp_path / "devstore.sqlite3"
    env = {
        **os.environ,
        "DEVSTORE_DB": str(db),
        "DEVSTORE_URL": f"http://127.0.0.1:{port}",
        "DEVSTORE_APP_TOML": str(tmp_path / "missing.toml"),
    }
    seeded = subprocess.run(
        [sys.executable, "-m", "devstore", "seed", "--generate", "--customers", "30", "--orders", "120"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "devstore", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_devstore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_the_app_reaches_the_seeded_store_as_it_would_reach_shopify(server: str) -> None:
    token = httpx.post(f"{server}/_devstore/access-token", json={}).json()["access_token"]

    response = httpx.post(
        f"{server}/admin/api/2026-10/graphql.json",
        json={"query": "{ shop { myshopifyDomain } customersCount { count } ordersCount { count } }"},
        headers={"Host": "omakase-demo.myshopify.com", "X-Shopify-Access-Token": token},
    )

    data = response.json()["data"]
    assert data["shop"]["myshopifyDomain"] == "omakase-demo.myshopify.com"
    assert data["customersCount"]["count"] == 30
    assert data["ordersCount"]["count"] == 120
