"""Celery tasks of shop_app. Thin: take ids, load the row, return quietly if it is gone or its
shop is no longer installed, call a service."""

import logging

from celery import shared_task

from shop_app.admin_api import AdminApiError
from shop_app.heartbeats import heartbeat_record
from shop_app.install import shop_after_install
from shop_app.models import Shop
from shop_app.tokens import TokenRefreshUnavailable

logger = logging.getLogger(__name__)

# Shopify being briefly unreachable is worth retrying; a refused token or a bad query is not.
TRANSIENT = (AdminApiError, TokenRefreshUnavailable, OSError)


@shared_task(name="shop_app.tasks.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat every minute; a worker running it proves the pipeline end to end."""
    heartbeat_record("worker")


def retry_countdown(retries: int) -> int:
    """Seconds before a task's next try after a transient failure: 5, 10, 20... capped at 5 min."""
    return min(300, 5 * 2**retries)


def installed_shop(shop_id: int) -> Shop | None:
    """The shop, if it still exists and is installed: what every task checks before it works."""
    shop = Shop.objects.filter(pk=shop_id).first()
    return shop if shop is not None and shop.is_installed else None


@shared_task(
    name="shop_app.tasks.shop_after_install",
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,  # idempotent: each step checks what exists before creating it
)
def shop_after_install_task(shop_id: int) -> None:
    shop = installed_shop(shop_id)
    if shop is not None:
        shop_after_install(shop)


def shop_after_install_enqueue(shop_id: int) -> None:
    shop_after_install_task.delay(shop_id)
