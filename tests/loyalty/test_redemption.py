"""Redemption through the storefront door and as a service: a code for that shopper, once; the
same request again answers the same code; short means 409 with nothing reserved; Shopify failing
gives the points back."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client

from loyalty import redemption as redemption_module
from loyalty.adjustments import points_adjust
from loyalty.ledger import NotEnoughPoints, balances_of, ledger_differences, member_get
from loyalty.models import Entry, Redemption, Reward
from loyalty.program import program_for
from loyalty.redemption import redeem, redemptions_maintain
from shop_app.models import Shop
from tests.loyalty.conftest import FakeShopify
from tests.storefront import proxy_url, signed_proxy_query

SHOPPER = 811


@pytest.fixture
def reward(shop: Shop) -> Reward:
    program_for(shop)
    return Reward.objects.create(
        shop=shop,
        name="5 off",
        kind=Reward.Kind.FIXED_AMOUNT,
        value=Decimal("5"),
        points_cost=100,
        minimum_order=Decimal("20"),
    )


def available(shop: Shop) -> int:
    member = member_get(shop, SHOPPER)
    assert member is not None
    return balances_of(member).available


def test_redeeming_creates_a_single_use_code_for_that_shopper_only(
    shop: Shop, reward: Reward, shopify: FakeShopify
) -> None:
    points_adjust(shop, SHOPPER, 250, "welcome", actor="42")

    result = redeem(shop, SHOPPER, reward.pk, "request-0001", client=shopify)  # type: ignore[arg-type]

    assert result.redemption.status == Redemption.Status.ISSUED
    sent = shopify.codes[result.redemption.code]["input"]
    assert sent["context"] == {"customers": {"add": [f"gid://shopify/Customer/{SHOPPER}"]}}
    assert sent["usageLimit"] == 1
    assert sent["appliesOncePerCustomer"] is True
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "20.00"}}
    assert result.balances.available == 150
    assert ledger_differences(shop) == []


def test_the_same_request_again_answers_the_same_code_and_spends_once(
    shop: Shop, reward: Reward, shopify: FakeShopify
) -> None:
    points_adjust(shop, SHOPPER, 250, "welcome", actor="42")

    first = redeem(shop, SHOPPER, reward.pk, "request-0002", client=shopify)  # type: ignore[arg-type]
    again = redeem(shop, SHOPPER, reward.pk, "request-0002", client=shopify)  # type: ignore[arg-type]

    assert again.redemption.code == first.redemption.code
    assert len(shopify.codes) == 1
    assert available(shop) == 150


def test_not_enough_points_reserves_nothing(shop: Shop, reward: Reward, shopify: FakeShopify) -> None:
    points_adjust(shop, SHOPPER, 99, "almost", actor="42")

    with pytest.raises(NotEnoughPoints):
        redeem(shop, SHOPPER, reward.pk, "request-0003", client=shopify)  # type: ignore[arg-type]

    assert not Redemption.objects.for_shop(shop).exists()
    assert not Entry.objects.for_shop(shop).filter(kind=Entry.Kind.REDEEM).exists()
    assert shopify.calls == 0


@pytest.mark.parametrize("failure", ["Code is invalid", httpx.ConnectTimeout("gone"), RuntimeError("boom")])
def test_when_shopify_fails_the_points_come_back_and_a_retry_issues_one_code(
    shop: Shop, reward: Reward, shopify: FakeShopify, failure: Any
) -> None:
    points_adjust(shop, SHOPPER, 100, "welcome", actor="42")
    shopify.fail = failure

    failed = redeem(shop, SHOPPER, reward.pk, "request-0004", client=shopify)  # type: ignore[arg-type]

    assert failed.redemption.status == Redemption.Status.FAILED
    assert available(shop) == 100
    shopify.fail = None
    retried = redeem(shop, SHOPPER, reward.pk, "request-0004", client=shopify)  # type: ignore[arg-type]
    assert retried.redemption.status == Redemption.Status.ISSUED
    assert len(shopify.codes) == 1
    assert available(shop) == 0
    assert ledger_differences(shop) == []


def test_a_timeout_after_shopify_made_the_code_keeps_it(
    shop: Shop, reward: Reward, shopify: FakeShopify, monkeypatch: pytest.MonkeyPatch
) -> None:
    points_adjust(shop, SHOPPER, 100, "welcome", actor="42")
    real_create = redemption_module.code_create

    def created_then_timed_out(*args: Any, **kwargs: Any) -> Any:
        real_create(*args, **kwargs)
        raise httpx.ReadTimeout("no answer")

    monkeypatch.setattr(redemption_module, "code_create", created_then_timed_out)

    result = redeem(shop, SHOPPER, reward.pk, "request-0005", client=shopify)  # type: ignore[arg-type]

    assert result.redemption.status == Redemption.Status.ISSUED
    assert result.redemption.code in shopify.codes
    assert available(shop) == 0


def test_an_expired_unused_code_gives_its_points_back_by_the_policy(
    shop: Shop, reward: Reward, shopify: FakeShopify
) -> None:
    points_adjust(shop, SHOPPER, 100, "welcome", actor="42")
    issued = redeem(shop, SHOPPER, reward.pk, "request-0006", client=shopify).redemption  # type: ignore[arg-type]
    assert issued.expires_at is not None

    redemptions_maintain(shop, now=issued.expires_at + timedelta(days=1), client=shopify)  # type: ignore[arg-type]

    issued.refresh_from_db()
    assert issued.status == Redemption.Status.EXPIRED
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 100


def redeem_at_the_door(client: Client, shop: Shop, body: object, customer: int | None = SHOPPER) -> Any:
    return client.post(
        proxy_url("loyalty/redeem", signed_proxy_query(shop.domain, customer_id=customer)),
        data=json.dumps(body),
        content_type="application/json",
    )


def test_the_storefront_door_answers_code_points_spent_and_balance_or_409(
    client: Client, shop: Shop, reward: Reward, shopify: FakeShopify, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redemption_module, "admin_client_for_shop", lambda shop: shopify)
    points_adjust(shop, SHOPPER, 150, "welcome", actor="42")

    answer = redeem_at_the_door(client, shop, {"reward_id": reward.pk, "idempotency_key": "door-000001"})
    short = redeem_at_the_door(client, shop, {"reward_id": reward.pk, "idempotency_key": "door-000002"})
    guest = redeem_at_the_door(
        client, shop, {"reward_id": reward.pk, "idempotency_key": "door-000003"}, customer=None
    )
    bad = redeem_at_the_door(client, shop, {"reward_id": "one", "idempotency_key": "door-000004"})

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["code"].startswith("PTS-")
    assert body["points_spent"] == 100
    assert body["balance"]["available"] == 50
    assert short.status_code == 409
    assert short.json()["error"]["field"] == "points"
    assert guest.status_code == 401
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "reward_id"
    assert Redemption.objects.for_shop(shop).count() == 1


def test_the_widget_shows_balance_ways_to_earn_and_rewards(
    client: Client, shop: Shop, reward: Reward
) -> None:
    points_adjust(shop, SHOPPER, 150, "welcome", actor="42")

    widget = client.get(
        proxy_url("loyalty", signed_proxy_query(shop.domain, customer_id=SHOPPER, params=[("locale", "ja")]))
    ).json()
    guest = client.get(proxy_url("loyalty", signed_proxy_query(shop.domain))).json()

    assert widget["member"]["available"] == 150
    assert widget["rewards"][0] == {**widget["rewards"][0], "id": reward.pk, "affordable": True}
    assert {way["key"] for way in widget["ways_to_earn"]} >= {"orders", "join", "birthday"}
    assert guest["member"] is None
    assert guest["rewards"][0]["affordable"] is False


def test_the_merchant_lists_the_rewards(shop: Shop, reward: Reward, api_client_for: Any) -> None:
    rewards = api_client_for(shop).get("/api/loyalty/rewards").json()["rewards"]

    assert [(item["name"], item["points_cost"]) for item in rewards] == [("5 off", 100)]
