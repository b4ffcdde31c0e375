"""Celery tasks of personalize. Thin: take ids, call a service."""

import logging

from celery import shared_task

from personalize.reconcile import reconcile_shop, shops_to_reconcile
from shop_app.models import Shop

logger = logging.getLogger(__name__)


@shared_task(name="personalize.tasks.reconcile_all_shops")
def reconcile_all_shops() -> None:
    """Beat: one reconciliation task per installed shop."""
    for shop_pk in shops_to_reconcile():
        reconcile_shop_task.delay(shop_pk)


@shared_task(name="personalize.tasks.reconcile_shop")
def reconcile_shop_task(shop_pk: int) -> None:
    from shop_app.admin_api import AdminApiError, admin_client_for_shop
    from shop_app.tokens import ShopNotAuthorized

    shop = Shop.objects.filter(pk=shop_pk).first()
    if shop is None or not shop.is_installed:
        return
    try:
        reconcile_shop(shop, admin_client_for_shop(shop))
    except AdminApiError:
        # The next scheduled pass starts again from the same cursor: nothing is skipped.
        logger.warning("reconcile %s: Admin API failed; the next pass retries", shop.domain, exc_info=True)
    except ShopNotAuthorized:
        # The merchant must open the app again; the cursor waits for them.
        logger.info("reconcile %s: skipped, the shop needs reauthorization", shop.domain)
