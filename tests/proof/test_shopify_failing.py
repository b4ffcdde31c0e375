"""Redemption against the real devstore process answering as Shopify does when it fails: 429 with
Retry-After, 5xx, and a hang past our read timeout (with the code made, or not). Each call is
retried a bounded number of times; a failure is recorded on the redemption and the shopper's
points come back; a code Shopify did make is kept and paid for once; the same request again,
once Shopify answers, issues exactly one code.

devstore's `failure` switch (devstore/README.md) gives each failure as it looks on the wire."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client

from loyalty.adjustments import points_adjust
from loyalty.ledger import balances_of, ledger_differences, member_get
from loyalty.models import Entry, Redemption, Reward
from loyalty.program import program_for
from shop_app.admin_api import TRANSPORT_RETRIES
from shop_app.models import Shop
from tests.live import Devstore, install
from tests.storefront import proxy_url, signed_proxy_query

pytestmark = pytest.mark.integration

# Our read timeout, in this test, and how long devstore holds an answer: past it.
READ_TIMEOUT = 1.0
HELD_SECONDS = 3.0


@dataclass(frozen=True)
class Shopper:
    """A shopper of an installed shop, known to devstore, with 250 points and a 100 point reward."""

    shop: Shop
    customer_id: int
    reward: Reward

    def available(self) -> int:
        member = member_get(self.shop, self.customer_id)
        assert member is not None
        return balances_of(member).available

    def codes_in_shopify(self, devstore: Devstore) -> list[str]:
        """The discount codes devstore holds for this shopper."""
        return [
            row["code"]
            for row in devstore.control("GET", "/discounts")["discounts"]
            if self.customer_id in row["customer_ids"]
        ]


def shopper_with_points(devstore: Devstore) -> Shopper:
    shop = install(devstore)
    customer = devstore.control("POST", "/customers", {"email": "hana@example.jp", "first_name": "Hana"})
    program_for(shop)
    reward = Reward.objects.create(
        shop=shop, name="5 off", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("5"), points_cost=100
    )
    points_adjust(shop, customer["customer"]["id"], 250, "welcome", actor="42")
    return Shopper(shop, customer["customer"]["id"], reward)


def redeem_at_the_door(shopper: Shopper, key: str, base: str = "") -> Any:
    """The shopper's POST /apps/omakase/loyalty/redeem, as the app proxy forwards it: to this
    process's app (the test client) or, with `base`, to an app server's address."""
    url = proxy_url(
        "loyalty/redeem", signed_proxy_query(shopper.shop.domain, customer_id=shopper.customer_id)
    )
    body = {"reward_id": shopper.reward.pk, "idempotency_key": key}
    if base:
        return httpx.post(base + url, json=body, timeout=60)
    return Client().post(url, data=body, content_type="application/json")


@pytest.fixture
def shopper(devstore: Devstore, settings: Any) -> Shopper:
    settings.SHOPIFY_HTTP_TIMEOUT = (READ_TIMEOUT, READ_TIMEOUT)
    return shopper_with_points(devstore)


@pytest.mark.parametrize(
    ("failure", "attempts"),
    [
        ({"status": 429, "retry_after": 1}, TRANSPORT_RETRIES + 1),
        ({"status": 503}, TRANSPORT_RETRIES + 1),
        ({"status": 500}, 1),  # an internal error is not retried
        ({"status": 504, "delay_seconds": HELD_SECONDS}, 1),  # no answer in time, nothing done
    ],
    ids=["429", "503", "500", "timeout"],
)
def test_shopify_failing_is_retried_a_bounded_number_of_times_recorded_and_the_points_come_back(
    shopper: Shopper, devstore: Devstore, failure: dict[str, Any], attempts: int
) -> None:
    # Given Shopify failing exactly as many times as we try
    devstore.settings(failure={"remaining": attempts, **failure})

    # When the shopper redeems
    answer = redeem_at_the_door(shopper, "proof-failing-1")

    # Then we gave up after those attempts (one more would have made the code), told the shopper
    # their points are back, and recorded why on the redemption
    assert answer.status_code == 502, answer.content
    assert answer.json()["balance"]["available"] == 250
    assert devstore.settings()["failure"]["remaining"] == 0
    assert shopper.codes_in_shopify(devstore) == []
    redemption = Redemption.objects.for_shop(shopper.shop).get()
    assert redemption.status == Redemption.Status.FAILED
    assert redemption.last_error
    returned = Entry.objects.for_shop(shopper.shop).filter(kind=Entry.Kind.REDEEM_RETURN)
    assert [entry.points for entry in returned] == [100]
    assert shopper.available() == 250
    assert ledger_differences(shopper.shop) == []

    # And the same request again, Shopify answering, issues one code, paid for once
    again = redeem_at_the_door(shopper, "proof-failing-1")
    assert again.status_code == 200, again.content
    assert shopper.codes_in_shopify(devstore) == [again.json()["code"]]
    assert shopper.available() == 150
    assert ledger_differences(shopper.shop) == []


def test_a_code_shopify_made_but_answered_too_late_is_kept_and_paid_for_once(
    shopper: Shopper, devstore: Devstore
) -> None:
    # Given Shopify making the code, then answering past our read timeout
    devstore.settings(failure={"remaining": 1, "status": 200, "delay_seconds": HELD_SECONDS})

    # When the shopper redeems
    answer = redeem_at_the_door(shopper, "proof-late-0001")

    # Then the code Shopify holds is the shopper's, and the points paid for it once
    assert answer.status_code == 200, answer.content
    assert shopper.codes_in_shopify(devstore) == [answer.json()["code"]]
    assert Redemption.objects.for_shop(shopper.shop).get().status == Redemption.Status.ISSUED
    assert shopper.available() == 150
    # And the same request again answers that code, and nothing more is spent or made
    again = redeem_at_the_door(shopper, "proof-late-0001")
    assert again.json()["code"] == answer.json()["code"]
    assert shopper.codes_in_shopify(devstore) == [answer.json()["code"]]
    assert shopper.available() == 150
    assert ledger_differences(shopper.shop) == []
