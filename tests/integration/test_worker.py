import subprocess

import pytest

from shop_app.heartbeats import heartbeat_last_seen
from shop_app.tasks import heartbeat
from tests.live import wait_for

pytestmark = pytest.mark.integration


def test_a_task_sent_through_the_broker_runs_in_a_worker_process(
    celery_worker_process: subprocess.Popen[str],
) -> None:
    # Given no worker has ever reported
    assert heartbeat_last_seen("worker") is None

    # When the heartbeat task goes through the real broker
    heartbeat.delay()

    # Then a separate worker process runs it and its result lands in the database
    def worker_reported() -> bool:
        """the worker process records its heartbeat"""
        return heartbeat_last_seen("worker") is not None

    wait_for(worker_reported, timeout=60)
    assert celery_worker_process.poll() is None, "the worker died"
