"""Celery tasks of commerce. Thin: take ids, load the row, return quietly if it is gone or its shop
is no longer installed, call a service."""

import logging

from celery import shared_task
from django.db import transaction

from commerce.backfill import BackfillCancelled, BackfillFailed, backfill_advance, backfill_fail
from commerce.models import Backfill
from commerce.reconcile import collection_refresh, reconcile_shop, shops_to_reconcile
from commerce.records import IngestError
from shop_app.admin_api import AdminApiError, admin_client_for_shop
from shop_app.models import Shop
from shop_app.tasks import TRANSIENT, installed_shop, retry_countdown
from shop_app.tokens import ShopNotAuthorized

logger = logging.getLogger(__name__)


@shared_task(name="commerce.tasks.reconcile_all_shops")
def reconcile_all_shops() -> None:
    """Beat: one reconciliation task per installed shop."""
    for shop_pk in shops_to_reconcile():
        reconcile_shop_task.delay(shop_pk)


@shared_task(name="commerce.tasks.reconcile_shop")
def reconcile_shop_task(shop_pk: int) -> None:
    shop = installed_shop(shop_pk)
    if shop is None:
        return
    try:
        reconcile_shop(shop, admin_client_for_shop(shop))
    except AdminApiError:
        # The next scheduled pass starts again from the same cursor: nothing is skipped.
        logger.warning("reconcile %s: Admin API failed; the next pass retries", shop.domain, exc_info=True)
    except ShopNotAuthorized:
        # The merchant must open the app again; the cursor waits for them.
        logger.info("reconcile %s: skipped, the shop needs reauthorization", shop.domain)


@shared_task(
    name="commerce.tasks.backfill_step",
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
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from error
    if delay is not None:
        backfill_step_enqueue(backfill_id, countdown=delay)


def backfill_step_enqueue(backfill_id: int, countdown: float = 0) -> None:
    backfill_step.apply_async((backfill_id,), countdown=countdown)


@shared_task(
    name="commerce.tasks.collection_refresh",
    bind=True,
    max_retries=5,
    acks_late=True,  # idempotent: an older read never replaces newer members
)
def collection_refresh_task(self, shop_pk: int, collection_id: int) -> None:
    """Read a collection's members from the Admin API (collections/* webhooks carry none).
    Idempotent: the read replaces the members only if it is at least as new as those held."""
    shop = installed_shop(shop_pk)
    if shop is None:
        return
    try:
        collection_refresh(shop, admin_client_for_shop(shop), collection_id)
    except ShopNotAuthorized:
        logger.info("collection %s of %s: the shop needs reauthorization", collection_id, shop.domain)
    except IngestError:
        logger.warning("collection %s of %s: malformed answer", collection_id, shop.domain, exc_info=True)
    except TRANSIENT as error:
        if self.request.retries >= self.max_retries:
            # Reconciliation reads the collection again: its members are older than its fields.
            logger.warning("collection %s of %s: not read; reconciliation will", collection_id, shop.domain)
            return
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from error


def collection_refresh_enqueue(shop: Shop, collection_id: int) -> None:
    """Read the collection's members once the current transaction commits."""
    transaction.on_commit(lambda: collection_refresh_task.delay(shop.pk, collection_id))
