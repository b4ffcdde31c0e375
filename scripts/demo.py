"""`make demo`: the whole product on embedded defaults, in one terminal.

Seeds devstore (our Shopify) on first run, starts it beside the web app, a Celery worker and
Celery beat, opens the app once as the merchant would (which installs it: token exchange,
webhook subscriptions, the backfill of the store's history), prints where to look once all of it
answers, says when the import is done, and on Ctrl-C stops every process cleanly.

The processes' own logs go to var/demo.log; the terminal shows only this script's lines and any
error a process logs.

`make demo DEMO_DATA=online-retail` builds the store from ../shared/data's UCI Online Retail
lines instead of the generated apparel store.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
LOG = VAR / "demo.log"
PYTHON = sys.executable
APP_PORT = int(os.environ.get("OMAKASE_PORT", "8000"))
DEVSTORE_PORT = int(os.environ.get("DEVSTORE_PORT", "8100"))
APP_URL = f"http://127.0.0.1:{APP_PORT}"
DEVSTORE_URL = f"http://127.0.0.1:{DEVSTORE_PORT}"
# devstore's mail catcher (devstore/mail.py): the app's emails go there, readable at /_devstore/mail.
SMTP_PORT = int(os.environ.get("DEVSTORE_SMTP_PORT", str(DEVSTORE_PORT + 25)))
SHOP = os.environ.get("DEVSTORE_SHOP", "omakase-demo.myshopify.com")
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
STARTUP_TIMEOUT = 90.0
IMPORT_POLL_SECONDS = 3.0

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
    "DEVSTORE_SMTP_PORT": str(SMTP_PORT),
    "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
    # Log lines reach var/demo.log as they happen, not when a pipe buffer fills.
    "PYTHONUNBUFFERED": "1",
}

# Development containers often run everything as root, where Celery's worker warns at every start
# and suggests `--uid`. Dropping to another user does not work here: the worker writes the same
# SQLite files and broker folder under var/ as the web process and beat, which run as this user.
# Celery refuses root outright only when the worker accepts pickle (what C_FORCE_ROOT overrides);
# ours accepts JSON alone (CELERY_ACCEPT_CONTENT), so the warning is one a newcomer cannot act on.
# Python's own warning filter silences exactly that message, and only for the demo's worker.
ROOT_WORKER_WARNING = "ignore:You're running the worker with superuser privileges"

# The start of a log record in any of the processes' formats: Django's and Celery's timestamps,
# runserver's request lines, devstore's and uvicorn's level names. Lines that match none continue
# the record before them (a traceback, a multi-line message).
RECORD_START = re.compile(
    r"^(\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d|\[\d\d/\w{3}/\d{4} |(DEBUG|INFO|WARNING|ERROR|CRITICAL)[: ])"
)
ERROR_RECORD = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback ")
# In a traceback, the lines flush left that are not its headings: the exception (`module.Error:
# message`) and each one it chains. The frames are indented.
TRACEBACK_HEADINGS = ("Traceback ", "The above exception", "During handling of the above exception")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    # Its last lines, shown if it exits on its own.
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=20))
    relaying: threading.Thread | None = None


class Log:
    """var/demo.log, which every child writes to through this script, one line at a time."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("w", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, name: str, line: str) -> None:
        with self.lock:
            if self.file.closed:
                return
            self.file.write(f"{name:<9}{line}\n")
            self.file.flush()

    def close(self) -> None:
        with self.lock:
            self.file.close()


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def shown(path: Path) -> str:
    """A path as the reader would type it from where they ran `make demo`."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def relay(child: Child, stream: IO[bytes], log: Log) -> None:
    """Copy a child's output to the log. Echo its error records here: the record's first line and
    the exceptions its traceback ends with (`sqlite3.OperationalError: ...`), not the frames."""
    in_error = False
    for raw in stream:
        line = raw.decode(errors="replace").rstrip()
        log.write(child.name, line)
        child.tail.append(line)
        if ERROR_RECORD.search(line):
            in_error = True
            if not line.startswith("Traceback "):
                print(f"{child.name}: {line}", flush=True)
        elif RECORD_START.match(line):
            in_error = False
        elif in_error and line[:1].strip() and not line.startswith(TRACEBACK_HEADINGS):
            print(f"{child.name}: {line}", flush=True)


def start(log: Log, name: str, *args: str, environment: dict[str, str] | None = None) -> Child:
    # A session of its own: Ctrl-C reaches only this supervisor, which then stops each child in
    # order instead of every process racing to shut down at once.
    process = subprocess.Popen(
        [PYTHON, *args],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(environment or {})},
    )
    child = Child(name, process)
    assert process.stdout is not None
    child.relaying = threading.Thread(target=relay, args=(child, process.stdout, log), daemon=True)
    child.relaying.start()
    return child


def run_step(log: Log, name: str, *args: str) -> None:
    """A setup command before the processes start: its output goes to the log, and if it fails
    its output is shown and the demo ends."""
    result = subprocess.run([PYTHON, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    for line in (result.stdout + result.stderr).splitlines():
        log.write(name, line)
    if result.returncode != 0:
        print(result.stdout + result.stderr, end="", file=sys.stderr, flush=True)
        sys.exit(f"demo: {name} failed with {result.returncode}")


def fetch(
    url: str, data: bytes | None = None, timeout: float = 10, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status), bytes(response.read())


def answers(url: str) -> bool:
    try:
        return fetch(url, timeout=2)[0] == 200
    except OSError:
        return False


def seed_devstore(log: Log) -> None:
    if (VAR / "devstore.sqlite3").exists():
        return
    mode = os.environ.get("DEMO_DATA", "generated")
    if mode == "online-retail":
        if not ONLINE_RETAIL.exists():
            sys.exit(f"demo: {ONLINE_RETAIL} is not there; run `make demo` for the generated store")
        source = ["--online-retail", str(ONLINE_RETAIL)]
    else:
        source = ["--generate"]
    say(f"seeding devstore ({mode} store)")
    run_step(log, "seed", "-m", "devstore", "seed", *source)


def session_token() -> str:
    """A fresh session token for the shop, as the admin gives the app's frame."""
    _, body = fetch(f"{DEVSTORE_URL}/_devstore/session-token", json.dumps({"shop": SHOP}).encode())
    return str(json.loads(body)["session_token"])


def open_app_as_the_merchant() -> bool:
    """What the admin iframe does when the merchant clicks the app: load the app URL with a
    fresh session token. The first time, that installs Omakase."""
    query = urllib.parse.urlencode({"embedded": "1", "shop": SHOP, "id_token": session_token()})
    try:
        return fetch(f"{APP_URL}/?{query}", timeout=30)[0] == 200
    except OSError as error:
        say(f"opening the app as the merchant failed: {error}")
        return False


def import_over() -> dict[str, Any] | None:
    """The import of the store's history, as the Overview reads it (GET /api/import), once it is
    over; None while it is pending or running, has not started, or the app does not answer."""
    try:
        _, body = fetch(f"{APP_URL}/api/import", headers={"Authorization": f"Bearer {session_token()}"})
        progress = json.loads(body)["import"]
    except (OSError, ValueError, KeyError):
        return None  # Not answering this moment; the caller asks again.
    if isinstance(progress, dict) and progress["status"] not in ("pending", "running"):
        return progress
    return None


def import_summary(progress: dict[str, Any], since: datetime) -> str:
    kinds = ("customers", "orders", "products", "collections")
    counts = ", ".join(f"{progress[f'{kind}_imported']:,} {kind}" for kind in kinds)
    status = progress["status"]
    finished = progress.get("finished_at")
    if status == "done" and finished:
        started, ended = datetime.fromisoformat(progress["started_at"]), datetime.fromisoformat(finished)
        if ended < since:
            return f"the store's history was imported on an earlier run ({counts})"
        return f"the import finished: {counts} in {(ended - started).total_seconds():.0f} s"
    if status == "failed":
        return f"the import failed ({counts} so far): {progress['error']}"
    return f"the import stopped: {status} ({counts})"


def where_to_look(state: str) -> str:
    admin = f"{DEVSTORE_URL}/admin/apps/omakase?shop={SHOP}"
    return (
        "\n"
        "Omakase is running.\n"
        f"  merchant   {admin}\n"
        "             Shopify's admin (devstore) with Omakase open on its Overview; Customers in its\n"
        "             sidebar once the profiles are computed (add &locale=ja for Japanese)\n"
        f"  shopper    {DEVSTORE_URL}/\n"
        "             the storefront: Sign in lets you be any customer, Buy now places a paid order\n"
        f"  app proxy  {DEVSTORE_URL}/apps/omakase/ping\n"
        f"  profile    {DEVSTORE_URL}/apps/omakase/profile\n"
        "             signed in on the storefront: what the shop believes about you, and why\n"
        f"  mail       {DEVSTORE_URL}/_devstore/mail\n"
        "             what the app emailed (newsletter confirmations and issues), links clickable\n"
        f"  health     {APP_URL}/healthz\n"
        f"  {SHOP}:\n             {state}\n"
        f"  devstore, web, worker and beat log to {shown(LOG)}; errors show here too, tracebacks there.\n"
        "Press Ctrl-C to stop everything.\n"
    )


def stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within 20 s, killing it")
            child.process.kill()
            child.process.wait()
    for child in children:
        if child.relaying is not None:
            child.relaying.join(timeout=5)  # Their last lines, into the log before it closes.


class Demo:
    """The running processes, and what the terminal has been told about them."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.children: list[Child] = []
        self.interrupted = False
        self.started_at = datetime.now(UTC)

    def on_signal(self, signum: int, frame: object) -> None:
        self.interrupted = True

    def start_processes(self) -> None:
        worker_environment = {}
        if os.geteuid() == 0:
            warnings = [os.environ.get("PYTHONWARNINGS", ""), ROOT_WORKER_WARNING]
            worker_environment["PYTHONWARNINGS"] = ",".join(w for w in warnings if w)
        log = self.log
        self.children = [
            start(log, "devstore", "-m", "devstore", "serve", "--port", str(DEVSTORE_PORT)),
            start(log, "web", "manage.py", "runserver", "--noreload", f"127.0.0.1:{APP_PORT}"),
            start(
                log,
                "worker",
                *("-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"),
                environment=worker_environment,
            ),
            start(log, "beat", "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"),
        ]

    def an_exit(self) -> bool:
        """Has a process exited on its own? Then say so, with its last lines."""
        child = next((child for child in self.children if child.process.poll() is not None), None)
        if child is None:
            return False
        say(f"{child.name} exited with {child.process.returncode}; its last lines:")
        for line in child.tail:
            print(f"  {line}", flush=True)
        return True

    def wait_until_up(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        waiting = {"the app": f"{APP_URL}/healthz", "devstore": f"{DEVSTORE_URL}/_devstore/health"}
        while waiting and not self.interrupted:
            if self.an_exit():
                return False
            if time.monotonic() > deadline:
                say(f"{' and '.join(waiting)} did not answer in {STARTUP_TIMEOUT:.0f} s; see {shown(LOG)}")
                return False
            waiting = {name: url for name, url in waiting.items() if not answers(url)}
            time.sleep(0.5)
        return not self.interrupted

    def run_until_stopped(self, watch_import: bool) -> int:
        """Until Ctrl-C or a process exits; meanwhile, say once when the import is over."""
        next_poll = 0.0
        while not self.interrupted:
            if self.an_exit():
                return 1
            if watch_import and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + IMPORT_POLL_SECONDS
                if (progress := import_over()) is not None:
                    say(import_summary(progress, self.started_at))
                    watch_import = False
            time.sleep(0.5)
        return 0


def main() -> int:
    os.environ.update(ENVIRONMENT)
    VAR.mkdir(exist_ok=True)
    log = Log(LOG)
    say(f"starting; the processes' logs go to {shown(LOG)}")
    run_step(log, "migrate", "manage.py", "migrate", "--no-input")
    seed_devstore(log)

    demo = Demo(log)
    signal.signal(signal.SIGINT, demo.on_signal)
    signal.signal(signal.SIGTERM, demo.on_signal)
    try:
        demo.start_processes()
        if not demo.wait_until_up():
            return 0 if demo.interrupted else 1
        if not open_app_as_the_merchant():
            print(where_to_look("not installed yet: open the merchant's address to install it"), flush=True)
            return demo.run_until_stopped(watch_import=False)
        run_step(log, "newsletters", "manage.py", "newsletters_demo", SHOP)
        run_step(log, "loyalty", "manage.py", "loyalty_demo_program", "--shop", SHOP)
        if (progress := import_over()) is not None:
            print(where_to_look(f"installed; {import_summary(progress, demo.started_at)}"), flush=True)
            return demo.run_until_stopped(watch_import=False)
        importing = "installed; importing its history: the Overview shows how far, a line below when done"
        print(where_to_look(importing), flush=True)
        return demo.run_until_stopped(watch_import=True)
    finally:
        say("stopping")
        stop(demo.children)
        say("stopped")
        log.close()


if __name__ == "__main__":
    sys.exit(main())
