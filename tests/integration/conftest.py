"""Real services for integration tests: a Celery worker process on the real broker, reading and
writing the same test database as the test. Nothing here skips: a missing service fails."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
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
def celery_worker_process(transactional_db: None, broker_available: None) -> Iterator[subprocess.Popen[str]]:
    """A real `celery worker` in its own process, and this process sending through the broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        # The worker runs what it receives; the eager switch only concerns the sending side.
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
