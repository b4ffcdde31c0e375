"""`make bench` in its short mode, as CI runs it: against PostgreSQL and Redis, with gunicorn, a
Celery worker and the load generator as real processes. No timing is asserted (CI machines are
noisy); that every figure is measured, and every event processed once, is."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live import ROOT

pytestmark = pytest.mark.integration

FIGURES = (
    "baseline_rps",
    "webhook_intake_rps",
    "webhook_intake_p99_ms",
    "proxy_block_rps",
    "proxy_block_p99_ms",
    "backfill_orders_per_s",
    "worker_order_events_per_s",
    "profile_recompute_orders_per_s",
    "profile_scan_orders_per_s",
    "newsletter_emails_per_s",
    "newsletter_plain_render_per_s",
    "storefront_js_gzip_bytes",
    "redemptions_per_s",
    "overview_page_ms",
)


def bench_database_url() -> str:
    """A database of the bench's own on the PostgreSQL the tests use (CI's), or this machine's."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/omakase"
    return urlsplit(url)._replace(path="/omakase_bench_short").geturl()


def test_the_short_bench_measures_every_figure_on_postgresql_and_redis(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        # Redis databases of its own: CI's tests use 14 and 15.
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "REDIS_URL": "redis://127.0.0.1:6379/11",
        "BENCH_RESULTS": str(results),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--short"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    figures = json.loads(results.read_text())
    for name in FIGURES:
        assert figures[name] > 0, name
    assert figures["short"] is True
    assert "webhook intake" in finished.stdout
