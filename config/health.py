"""GET /healthz: is the database answering, and can we reach the broker?"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from config.celery import app as celery_app
from shop_app.heartbeats import heartbeat_last_seen

logger = logging.getLogger(__name__)


def database_is_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health: database check failed", exc_info=True)
        return False


def broker_is_up() -> bool:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:
        logger.warning("health: broker check failed", exc_info=True)
        return False


def worker_last_seen() -> str | None:
    """When a worker last ran beat's heartbeat task: information for whoever reads /healthz, not
    a check (the web process answers for itself while workers restart)."""
    try:
        seen = heartbeat_last_seen("worker")
    except DatabaseError:
        return None
    return seen.isoformat() if seen else None


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_is_up(), "broker": broker_is_up()}
    down = [name for name, ok in checks.items() if not ok]
    body = {
        "status": "ok" if not down else "down",
        "down": down,
        "checks": checks,
        "worker_last_seen": worker_last_seen() if checks["database"] else None,
    }
    return JsonResponse(body, status=200 if not down else 503)
