"""Property tests of the ledger: under random sequences of earning, refunds, cancellations,
redemptions, expiry and adjustments, every invariant holds after every step: the cached balance
equals the ledger, no lot goes below zero or disagrees with its draws, the lots hold exactly the
positive balance, and no order loses more points than it earned."""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.adjustments import points_adjust
from loyalty.earning import points_sync_for_order
from loyalty.expiry import points_expire
from loyalty.ledger import LedgerError, ledger_differences, member_get
from loyalty.models import Entry, Lot, Program, Reward
from loyalty.program import program_for
from loyalty.redemption import redeem
from tests.factories import ShopFactory
from tests.loyalty.conftest import FakeShopify, paid_order, refund_of

SHOPPER = 1234
_shops = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(min_value=1, max_value=400)),
        st.tuples(
            st.just("refund"), st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=300)
        ),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("redeem"), st.integers(min_value=0, max_value=3)),
        st.tuples(st.just("adjust"), st.integers(min_value=-300, max_value=300).filter(bool)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
        st.tuples(st.just("expire")),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations, negative=st.booleans())
def test_every_invariant_holds_after_every_step(db: None, steps: list[tuple], negative: bool) -> None:  # type: ignore[type-arg]
    shop = ShopFactory(domain=f"property-{next(_shops)}.myshopify.com")
    program = program_for(shop)
    program.started_at = timezone.now() - timedelta(days=1)
    program.expiry_mode = Program.ExpiryMode.LOT
    program.expiry_days = 60
    program.refund_policy = Program.RefundPolicy.NEGATIVE if negative else Program.RefundPolicy.STOP_AT_ZERO
    program.save()
    rewards = [
        Reward.objects.create(
            shop=shop,
            name=f"reward {cost}",
            kind=Reward.Kind.FIXED_AMOUNT,
            value=Decimal("1"),
            points_cost=cost,
        )
        for cost in (50, 120, 300, 700)
    ]
    shopify = FakeShopify(shop)
    now = timezone.now()
    orders = []
    for number, step in enumerate(steps):
        kind = step[0]
        if kind == "earn":
            order = paid_order(shop, SHOPPER, f"{step[1]}.00", at=now)
            orders.append(order)
            points_sync_for_order(shop, order, now=now)
        elif kind == "refund" and orders:
            order = orders[step[1] % len(orders)]
            refund_of(shop, order, f"{step[2]}.00", at=now + timedelta(seconds=number))
            points_sync_for_order(shop, order, now=now)
        elif kind == "cancel" and orders:
            order = orders[step[1] % len(orders)]
            order.cancelled_at = now
            order.save()
            points_sync_for_order(shop, order, now=now)
        elif kind == "redeem":
            with contextlib.suppress(LedgerError):
                redeem(shop, SHOPPER, rewards[step[1]].pk, f"property-{number:04d}", client=shopify, now=now)  # type: ignore[arg-type]
        elif kind == "adjust":
            with contextlib.suppress(LedgerError):
                points_adjust(shop, SHOPPER, step[1], "property test", actor="test")
        elif kind == "wait":
            now += timedelta(days=step[1])
        elif kind == "expire":
            points_expire(shop, now=now)

        assert ledger_differences(shop) == [], (number, step)
        assert not Lot.objects.for_shop(shop).filter(remaining__lt=0).exists()
        for order in orders:
            earned = (
                Entry.objects.for_shop(shop)
                .filter(order_shopify_id=order.shopify_id, kind=Entry.Kind.EARN)
                .aggregate(total=Sum("points"))["total"]
                or 0
            )
            taken = (
                Entry.objects.for_shop(shop)
                .filter(order_shopify_id=order.shopify_id, kind=Entry.Kind.CLAWBACK)
                .aggregate(points=Sum("points"), debt=Sum("debt"))
            )
            assert -(taken["points"] or 0) + (taken["debt"] or 0) <= earned
        member = member_get(shop, SHOPPER)
        if member is not None and not negative:
            assert member.balance >= 0
