"""`make demo`: the whole product on embedded defaults, in one terminal.

Seeds devstore (our Shopify) on first run, starts it beside the web app, a Celery worker and
Celery beat, opens the app once as the merchant would (which installs it: token exchange,
webhook subscriptions, the backfill of the store's history), prints where to look, and on
Ctrl-C stops every process cleanly.

`make demo DEMO_DATA=online-retail` builds the store from ../shared/data's UCI Online Retail
lines instead of the generated apparel store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable
APP_PORT = int(os.environ.get("OMAKASE_PORT", "8000"))
DEVSTORE_PORT = int(os.environ.get("DEVSTORE_PORT", "8100"))
APP_URL = f"http://127.0.0.1:{APP_PORT}"
DEVSTORE_URL = f"http://127.0.0.1:{DEVSTORE_PORT}"
SHOP = os.environ.get("DEVSTORE_SHOP", "omakase-demo.myshopify.com")
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"

# Every process sees the same picture: the app reaches "Shopify" at devstore, devstore delivers
# webhooks and the app proxy to the app, and App Bridge and Polaris load from devstore offline.
ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "APP_URL": APP_URL,
    "DEVSTORE_URL": DEVSTORE_URL,
    "DEVSTORE_DB": str(VAR / "devstore.sqlite3"),
    "DEVSTORE_SHOP": SHOP,
    "SHOPIFY_BASE_URL_OVERRIDE": DEVSTORE_URL,
    "SHOPIFY_CDN_BASE": f"{DEVSTORE_URL}/cdn",
}


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def start(name: str, *args: str) -> Child:
    # A session of its own: Ctrl-C reaches only this supervisor, which then stops each child in
    # order instead of every process racing to shut down at once.
    process = subprocess.Popen([PYTHON, *args], cwd=ROOT, start_new_session=True)
    return Child(name, process)


def fetch(url: str, data: bytes | None = None, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status), bytes(response.read())


def wait_for_url(url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return fetch(url, timeout=2)[0] == 200
        except OSError:
            time.sleep(0.5)
    return False


def seed_devstore() -> None:
    if (VAR / "devstore.sqlite3").exists():
        return
    mode = os.environ.get("DEMO_DATA", "generated")
    if mode == "online-retail":
        if not ONLINE_RETAIL.exists():
            sys.exit(f"demo: {ONLINE_RETAIL} is not there; run `make demo` for the generated store")
        source = ["--online-retail", str(ONLINE_RETAIL)]
    else:
        source = ["--generate"]
    print(f"demo: seeding devstore ({mode})", flush=True)
    subprocess.run([PYTHON, "-m", "devstore", "seed", *source], cwd=ROOT, check=True)


def open_app_as_the_merchant() -> bool:
    """What the admin iframe does when the merchant clicks the app: load the app URL with a
    fresh session token. The first time, that installs Omakase."""
    _, body = fetch(f"{DEVSTORE_URL}/_devstore/session-token", json.dumps({"shop": SHOP}).encode())
    token = json.loads(body)["session_token"]
    query = urllib.parse.urlencode({"embedded": "1", "shop": SHOP, "id_token": token})
    try:
        return fetch(f"{APP_URL}/?{query}", timeout=30)[0] == 200
    except OSError as error:
        print(f"demo: opening the app failed: {error}", flush=True)
        return False


def stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print(f"demo: {child.name} did not stop in time, killing it", flush=True)
            child.process.kill()
            child.process.wait()


def main() -> int:
    os.environ.update(ENVIRONMENT)
    VAR.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)
    seed_devstore()

    children: list[Child] = []
    interrupted = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        children.append(start("devstore", "-m", "devstore", "serve", "--port", str(DEVSTORE_PORT)))
        children.append(start("web", "manage.py", "runserver", "--noreload", f"127.0.0.1:{APP_PORT}"))
        children.append(
            start(
                "worker", "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"
            )
        )
        children.append(start("beat", "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"))
        healthy = wait_for_url(f"{APP_URL}/healthz") and wait_for_url(f"{DEVSTORE_URL}/_devstore/health")
        installed = healthy and open_app_as_the_merchant()
        print(
            "\n"
            "Omakase is running" + ("" if healthy else " (but a health check did not answer yet)") + "\n"
            f"  Shopify admin (devstore)  {DEVSTORE_URL}/admin/apps/omakase?shop={SHOP}\n"
            f"  storefront (devstore)     {DEVSTORE_URL}/\n"
            f"  app health                {APP_URL}/healthz\n"
            f"  {SHOP}: "
            + ("installed; the worker is importing its history" if installed else "not installed yet")
            + "\n  a worker and beat run beside them\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while not interrupted:
            for child in children:
                if child.process.poll() is not None:
                    print(
                        f"demo: {child.name} exited with {child.process.returncode}; stopping the rest",
                        flush=True,
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("demo: stopping", flush=True)
        stop(children)
        print("demo: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
