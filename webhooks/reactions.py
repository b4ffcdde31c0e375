"""Where one module's events cause work in another: the one place, at the top of the layers.

Lower modules cannot call higher ones (docs/architecture.md), and no Django signal hides a call.
So every such chain is written here, where it can be read in one go:

- a shop is installed: commerce imports its history (shop_app.lifecycle runs the step);
- a shop is uninstalled: commerce cancels the import;
- an order, refund or shopper changed (a webhook was processed): the shopper's profile and the
  loyalty ledger learn of it. Profiles and loyalty arrive with their issues; until then
  `_shopper_change_inform` calls nothing: there is no behaviour to fake.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from commerce.backfill import backfill_start_for_installation, backfills_cancel_for_shop
from shop_app.lifecycle import after_install_register, on_uninstall_register
from shop_app.models import Shop

logger = logging.getLogger(__name__)


def _backfill_start(shop: Shop) -> None:
    backfill_start_for_installation(shop)


def _backfills_cancel(shop: Shop) -> None:
    backfills_cancel_for_shop(shop)


def reactions_wire() -> None:
    """Called once at startup (webhooks' AppConfig.ready)."""
    after_install_register(_backfill_start)
    on_uninstall_register(_backfills_cancel)


@dataclass(frozen=True)
class ShopperChange:
    """What changed, by our row ids, for the services downstream to read back."""

    shop_id: int
    customer_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    cause: str = ""


def shopper_change_announce(change: ShopperChange) -> None:
    """Inform profiles and loyalty once the change is committed (never for a rolled-back one)."""
    transaction.on_commit(lambda: _shopper_change_inform(change))


def _shopper_change_inform(change: ShopperChange) -> None:
    # The calls to the profile and loyalty services go here (see the module docstring).
    logger.debug("shopper change after %s: %s", change.cause, change)
