"""Celery tasks of shop_app. Thin: take ids, load the row, return quietly if it is gone or its
shop is no longer installed, call a service."""

import logging

from celery import shared_task

from shop_app.admin_api import AdminApiError, admin_client_for_shop
from shop_app.backfill import (
    BackfillCancelled,
    BackfillFailed,
    backfill_advance,
    backfill_fail,
    backfill_start_for_installation,
)
from shop_app.heartbeats import heartbeat_record
from shop_app.install import shop_details_sync
from shop_app.models import Backfill, Shop
from shop_app.tokens import ShopNotAuthorized, TokenRefreshUnavailable
from shop_app.webhook_subscriptions import shop_webhook_subscriptions_ensure

logger = logging.getLogger(__name__)

# Shopify being briefly unreachable is worth retrying; a refused token or a bad query is not.
TRANSIENT = (AdminApiError, TokenRefreshUnavailable, OSError)


@shared_task(name="shop_app.tasks.heartbeat")
def heartbeat() -> None:
    """Scheduled by beat every minute; a worker running it proves the pipeline end to end."""
    heartbeat_record("worker")


def _installed_shop(shop_id: int) -> Shop | None:
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
def shop_after_install(shop_id: int) -> None:
    shop = _installed_shop(shop_id)
    if shop is None:
        return
    # First, so that nothing below can keep the store's history from being imported; once per
    # installation, so that a redelivered task does not import twice.
    backfill_start_for_installation(shop)
    try:
        client = admin_client_for_shop(shop)
        shop_details_sync(shop, client)
        if shop.is_custom_app:
            shop_webhook_subscriptions_ensure(client)
    except ShopNotAuthorized:
        logger.warning("after-install of %s stopped: the shop's token is gone", shop.domain)


@shared_task(
    name="shop_app.tasks.backfill_step",
    bind=True,
    max_retries=8,
    acks_late=True,  # idempotent: lines_processed lets a retried step resume
)
def backfill_step(self, backfill_id: int) -> None:
    backfill = Backfill.objects.select_related("shop").filter(pk=backfill_id).first()
    if backfill is None or not backfill.is_active or not backfill.shop.is_installed:
        return
    try:
        delay = backfill_advance(backfill, admin_client_for_shop(backfill.shop))
    except BackfillCancelled:
        return
    except (BackfillFailed, ShopNotAuthorized) as error:
        backfill_fail(backfill, error)
        return
    except TRANSIENT as error:
        if self.request.retries >= self.max_retries:
            backfill_fail(backfill, error)
            return
        raise self.retry(exc=error, countdown=min(300, 5 * 2**self.request.retries)) from error
    if delay is not None:
        backfill_step.apply_async((backfill_id,), countdown=delay)
