"""Real services for integration and end-to-end tests (a pytest plugin, see tests/conftest.py):
a Celery worker process on the real broker reading and writing the test database, a devstore
process, and the app's live server. Nothing here skips: a missing service fails."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from config.celery import app as celery_app
from shop_app.models import Shop

ROOT = Path(__file__).resolve().parents[1]


def database_url_of_this_test() -> str:
    """The URL of the database this test process uses, for a child process to open."""
    settings = connection.settings_dict
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{settings['HOST'] or 'localhost'}{port}/{settings['NAME']}"


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until condition() is truthy; fail the test with a clear message after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s: {condition.__doc__ or condition}")


@pytest.fixture
def broker_available() -> None:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=2, timeout=3)
    except Exception as error:
        pytest.fail(f"the broker at {celery_app.conf.broker_url} is not reachable: {error}")


@pytest.fixture
def worker_environment() -> dict[str, str]:
    """Extra environment for the worker process; tests that need one override this fixture."""
    return {}


def celery_worker_start(
    worker_environment: dict[str, str], output: int | IO[str] = subprocess.PIPE
) -> subprocess.Popen[str]:
    """A real `celery worker` in its own process, on the test database, with `worker_environment`
    over this process's; what it prints goes to `output` (a test that kills workers and starts new
    ones gives each a file)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of_this_test(),
        # The worker runs what it receives, and sends what it enqueues through the broker.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        **worker_environment,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def celery_worker_process(
    transactional_db: None, broker_available: None, worker_environment: dict[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """A real `celery worker` in its own process, and this process sending through the broker."""
    worker = celery_worker_start(worker_environment)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        if worker.returncode not in (0, -15):
            print(output)  # noqa: T201 - shown by pytest when the test fails


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Devstore:
    """A devstore process: our Shopify, reached over HTTP like Shopify."""

    url: str
    db_path: Path
    process: subprocess.Popen[bytes]
    shop: str = "omakase-demo.myshopify.com"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None, **params: str) -> Any:
        response = httpx.request(method, f"{self.url}/_devstore{path}", json=body, params=params, timeout=30)
        assert response.status_code < 300, f"devstore {method} {path}: {response.status_code} {response.text}"
        return response.json()

    def session_token(self, shop: str | None = None, **extra: Any) -> str:
        return str(
            self.control("POST", "/session-token", {"shop": shop or self.shop, **extra})["session_token"]
        )

    def settings(self, **values: Any) -> Any:
        return self.control("POST", "/settings", values)

    def seed(self, customers: int, orders: int) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "devstore",
                "seed",
                "--generate",
                "--db",
                str(self.db_path),
                "--shop",
                self.shop,
                "--customers",
                str(customers),
                "--orders",
                str(orders),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def devstore_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Devstore]:
    """One devstore process for the session, delivering webhooks to the app's live server."""
    port = free_port()
    db_path = tmp_path_factory.mktemp("devstore") / "devstore.sqlite3"
    env = {
        **os.environ,
        "APP_URL": live_server.url,
        "DEVSTORE_URL": f"http://127.0.0.1:{port}",
        "DEVSTORE_DB": str(db_path),
        "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
        "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET,
        "SHOPIFY_API_VERSION": settings.SHOPIFY_API_VERSION,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devstore", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    store = Devstore(url=f"http://127.0.0.1:{port}", db_path=db_path, process=process)

    def answers() -> bool:
        """devstore answers its health check"""
        try:
            return httpx.get(f"{store.url}/_devstore/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None  # stop waiting if it died; checked below

    wait_for(answers, timeout=60)
    assert process.poll() is None, "devstore exited at start"
    yield store
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def real_broker(broker_available: None) -> Iterator[None]:
    """Tasks go to the real broker, as from a production web process, instead of running in the
    sending process. The queue is emptied before and after, so no test sees another's tasks."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        yield
    finally:
        celery_app.control.purge()
        celery_app.conf.task_always_eager = eager


@pytest.fixture
def devstore(devstore_server: Devstore, settings: Any, live_server: Any, real_broker: None) -> Devstore:
    """devstore, reset to an empty store, with the app pointed at it as it would be at Shopify.
    (With the live server, tests are transactional: after-commit tasks go to the broker.)"""
    devstore_server.control("POST", "/reset")
    settings.SHOPIFY_BASE_URL_OVERRIDE = devstore_server.url
    settings.SHOPIFY_CDN_BASE = f"{devstore_server.url}/cdn"
    settings.APP_URL = live_server.url
    return devstore_server


@dataclass
class AppServer:
    """The app under gunicorn, in a process of its own: unlike the live server (a thread of the
    test process), it can be killed."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes: the master forks them, and a new one for each that dies."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def answers(self) -> bool:
        """the app server answers (whatever /healthz says of its database and broker)"""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=5).status_code in (200, 503)
        except httpx.HTTPError:
            return False


AppServerStart = Callable[[dict[str, str]], AppServer]


@pytest.fixture
def app_server_process(transactional_db: None, tmp_path: Path) -> Iterator[AppServerStart]:
    """app_server_process(environment): the app under gunicorn (one sync worker, as production
    runs its workers) on the test database, with `environment` over this process's, answering once
    this returns. Every server started is stopped after the test."""
    started: list[AppServer] = []

    def start(environment: dict[str, str]) -> AppServer:
        port = free_port()
        log = tmp_path / f"gunicorn-{port}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_of_this_test(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                # No control socket: its default path is one per user, shared by every gunicorn.
                [*command, "--workers", "1", "--timeout", "120", "--no-control-socket"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = AppServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
        started.append(server)
        wait_for(lambda: server.answers() or process.poll() is not None, timeout=60)
        assert process.poll() is None, f"gunicorn exited at start: {log.read_text()}"
        return server

    yield start
    for server in started:
        server.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def open_app(devstore: Devstore, shop: str | None = None) -> HttpResponse:
    """The merchant opens the app in the admin: Shopify loads our URL with a session token."""
    shop = shop or devstore.shop
    response: HttpResponse = Client().get(
        "/", {"embedded": "1", "shop": shop, "id_token": devstore.session_token(shop)}
    )
    return response


def install(devstore: Devstore) -> Shop:
    """The merchant opens the app: the session token is exchanged, and the shop row exists."""
    response = open_app(devstore)
    assert response.status_code == 200, response.content
    return Shop.objects.get(domain=devstore.shop)


@pytest.fixture
def devstore_worker_environment(devstore: Devstore, live_server: Any) -> dict[str, str]:
    return {
        "SHOPIFY_BASE_URL_OVERRIDE": devstore.url,
        "SHOPIFY_CDN_BASE": f"{devstore.url}/cdn",
        "APP_URL": live_server.url,
    }
