"""On PostgreSQL, with real threads each on its own database connection: 50 concurrent
redemptions against one balance never overspend, and 50 concurrent requests with one idempotency
key create one code."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from loyalty.adjustments import points_adjust
from loyalty.ledger import NotEnoughPoints, ledger_differences, member_get
from loyalty.models import Redemption, Reward
from loyalty.program import program_for
from loyalty.redemption import redeem
from shop_app.models import Shop
from tests.loyalty.conftest import FakeShopify

pytestmark = pytest.mark.django_db(transaction=True)

SHOPPER = 901
REQUESTS = 50


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are what is tested: PostgreSQL only")


def all_at_once(work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in REQUESTS threads released together; each thread has its own connection."""
    start = threading.Barrier(REQUESTS)
    results: list[Any] = [None] * REQUESTS

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def reward(shop: Shop) -> Reward:
    program_for(shop)
    return Reward.objects.create(
        shop=shop, name="5 off", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("5"), points_cost=100
    )


def test_fifty_concurrent_redemptions_never_overspend(shop: Shop, reward: Reward) -> None:
    points_adjust(shop, SHOPPER, 1_050, "a balance for ten and a half rewards", actor="42")
    shopify = FakeShopify(shop)

    results = all_at_once(
        lambda index: redeem(shop, SHOPPER, reward.pk, f"concurrent-{index:04d}", client=shopify)
    )  # type: ignore[arg-type]

    issued = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, NotEnoughPoints)]
    assert len(refused) == 40, [r for r in results if isinstance(r, Exception)]
    assert len(issued) == 10
    assert len(shopify.codes) == 10
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 50
    assert Redemption.objects.for_shop(shop).count() == 10
    assert ledger_differences(shop) == []


def test_fifty_concurrent_requests_with_one_key_create_one_code(shop: Shop, reward: Reward) -> None:
    points_adjust(shop, SHOPPER, 1_000, "plenty", actor="42")
    shopify = FakeShopify(shop)

    results = all_at_once(lambda index: redeem(shop, SHOPPER, reward.pk, "the-same-request", client=shopify))  # type: ignore[arg-type]

    assert not [result for result in results if isinstance(result, Exception)]
    assert {result.redemption.code for result in results} == set(shopify.codes)
    assert len(shopify.codes) == 1
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 900
    assert ledger_differences(shop) == []
