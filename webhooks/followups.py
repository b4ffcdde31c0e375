"""What happens after an order, refund or shopper change is stored: the one place where webhooks
inform the shopper's profile and the loyalty ledger.

Profiles (personalize, a later issue) and loyalty (a later issue) do not exist yet. When they do,
`_inform_profiles_and_loyalty` calls their services, e.g. `profile_update_for_shopper(shop, ...)`
and `points_earn_for_order(shop, order)` / `points_reverse_for_refund(shop, refund)`. Until then
it calls nothing: there is no behaviour to fake.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction

from shop_app.models import Shop

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopperChange:
    """What changed, by our row ids, for the services downstream to read back."""

    shop_id: int
    customer_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    refund_ids: tuple[int, ...] = ()
    cause: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def shopper_change_announce(shop: Shop, change: ShopperChange) -> None:
    """Inform profiles and loyalty once the change is committed (never for a rolled-back one)."""
    transaction.on_commit(lambda: _inform_profiles_and_loyalty(change))


def _inform_profiles_and_loyalty(change: ShopperChange) -> None:
    # The call to the profile and loyalty services goes here (see the module docstring).
    logger.debug("shopper change after %s: %s", change.cause, change)
