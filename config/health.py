"""GET /healthz: is the database answering, and can we reach the broker?"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse

from config.celery import app as celery_app

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


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_is_up(), "broker": broker_is_up()}
    down = [name for name, ok in checks.items() if not ok]
    body = {"status": "ok" if not down else "down", "down": down, "checks": checks}
    return JsonResponse(body, status=200 if not down else 503)
