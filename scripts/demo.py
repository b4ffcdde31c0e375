"""`make demo`: the whole product on embedded defaults, in one terminal.

Migrates, then starts the web app, a Celery worker and Celery beat as child processes, prints
where to look, and on Ctrl-C stops every child cleanly before exiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
APP_PORT = int(os.environ.get("OMAKASE_PORT", "8000"))
APP_URL = os.environ.setdefault("APP_URL", f"http://127.0.0.1:{APP_PORT}")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def start(name: str, *args: str) -> Child:
    # A session of its own: Ctrl-C reaches only this supervisor, which then stops each child in
    # order instead of every process racing to shut down at once.
    process = subprocess.Popen([PYTHON, *args], cwd=ROOT, start_new_session=True)
    return Child(name, process)


def wait_for_url(url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            time.sleep(0.5)
    return False


def stop(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print(f"demo: {child.name} did not stop in time, killing it")
            child.process.kill()
            child.process.wait()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)

    children: list[Child] = []
    interrupted = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        children.append(start("web", "manage.py", "runserver", "--noreload", f"127.0.0.1:{APP_PORT}"))
        children.append(
            start(
                "worker", "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"
            )
        )
        children.append(start("beat", "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"))
        healthy = wait_for_url(f"{APP_URL}/healthz")
        print(
            "\n"
            "Omakase is running" + ("" if healthy else " (but /healthz did not answer yet)") + "\n"
            f"  app        {APP_URL}/\n"
            f"  health     {APP_URL}/healthz\n"
            "  worker and beat are running beside it\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while not interrupted:
            for child in children:
                if child.process.poll() is not None:
                    print(f"demo: {child.name} exited with {child.process.returncode}; stopping the rest")
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("demo: stopping", flush=True)
        stop(children)
        print("demo: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
