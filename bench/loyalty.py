"""The loyalty figure of `make bench`: redemptions per second (reserve under the member's row
lock, the code created through a Shopify that answers at once, confirm), beside a baseline
measured in the same run: a manual adjustment, the ledger's cheapest locked write.

Each redemption has its own idempotency key against one balance, so every one takes the row lock,
checks the available points, writes the redemption and its entry and draws from the lots.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from loyalty.adjustments import points_adjust
from loyalty.models import Reward
from loyalty.program import program_for
from loyalty.redemption import redeem
from shop_app.models import Shop

SHOPPER = 1


class _InstantShopify:
    """Creates every code at once, as a Shopify with no latency would."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.created = 0

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.created += 1
        return {
            "discountCodeBasicCreate": {
                "codeDiscountNode": {"id": f"gid://shopify/DiscountCodeNode/{self.created}"},
                "userErrors": [],
            }
        }


def loyalty_bench(shop: Shop, redemptions: int = 300) -> dict[str, Any]:
    """{"redemptions_per_s", "adjustments_per_s" (the baseline), "ratio_to_baseline"}."""
    program_for(shop)
    reward = Reward.objects.create(
        shop=shop, name="bench", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("1"), points_cost=10
    )
    points_adjust(shop, SHOPPER, 10 * redemptions, "bench balance", actor="bench")
    started = time.perf_counter()
    for _ in range(redemptions):
        points_adjust(shop, SHOPPER, 1, "bench baseline", actor="bench")
    baseline = redemptions / (time.perf_counter() - started)
    client = _InstantShopify(shop)
    started = time.perf_counter()
    for index in range(redemptions):
        redeem(shop, SHOPPER, reward.pk, f"bench-{index:08d}", client=client)  # type: ignore[arg-type]
    per_second = redemptions / (time.perf_counter() - started)
    return {
        "redemptions_per_s": round(per_second, 1),
        "adjustments_per_s": round(baseline, 1),
        "ratio_to_baseline": round(per_second / baseline, 3),
    }
