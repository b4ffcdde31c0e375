"""The program's scheduled work, per shop, as shop jobs (shop_app.jobs): hourly, expiry and its
reminders, birthdays, redemptions left behind, the mirror of matured points; nightly, tiers and
the proof that every cached balance equals the ledger."""

from __future__ import annotations

import logging

from loyalty.birthday import birthdays_award
from loyalty.expiry import expiry_reminders_send, points_expire
from loyalty.ledger import ledger_check
from loyalty.mirror import mirror_refresh_matured
from loyalty.models import Program
from loyalty.redemption import redemptions_maintain
from loyalty.tiers import tiers_recalculate_shop
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

HOURLY = "loyalty.hourly"
NIGHTLY = "loyalty.nightly"


def _shops_with_programs() -> list[Shop]:
    return list(Shop.objects.installed().filter(pk__in=Program.objects.values("shop")))


def hourly_all_shops() -> None:
    for shop in _shops_with_programs():
        job_enqueue(shop, HOURLY)


def nightly_all_shops() -> None:
    for shop in _shops_with_programs():
        job_enqueue(shop, NIGHTLY)


def hourly_handler(job: Job) -> float | None:
    shop = job.shop
    expired = points_expire(shop)
    reminded = expiry_reminders_send(shop)
    birthdays = birthdays_award(shop)
    redemptions = redemptions_maintain(shop)
    mirrored = mirror_refresh_matured(shop)
    logger.info(
        "loyalty of %s: %s expired, %s reminded, %s birthdays, %s redemptions settled, %s mirrored",
        shop.domain,
        expired,
        reminded,
        birthdays,
        redemptions,
        mirrored,
    )
    return None


def nightly_handler(job: Job) -> float | None:
    tiers_recalculate_shop(job.shop)
    ledger_check(job.shop)
    return None
