"""Earning on orders, claw-back on refunds and cancellations, profile points, birthdays and
manual adjustments: each as the shopper or the merchant would see it, with the ledger checked."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.adjustments import points_adjust
from loyalty.birthday import birthdays_award
from loyalty.earning import facts_award, member_join, points_sync_for_order
from loyalty.ledger import NotEnoughPoints, balances_of, ledger_differences, member_get
from loyalty.models import Entry, Program
from loyalty.privacy import loyalty_erase_shopper, loyalty_export
from loyalty.program import RULES_DEFAULT, program_for, rules_save
from privacy.registry import ShopperRef
from shop_app.models import Shop
from tests.loyalty.conftest import paid_order, refund_of

SHOPPER = 700


@pytest.fixture
def program(shop: Shop) -> Program:
    program = program_for(shop)
    program.started_at = timezone.now() - timedelta(days=1)
    program.save()
    return program


def test_a_paid_order_earns_pending_points_then_available_after_the_return_window(
    shop: Shop, program: Program
) -> None:
    order = paid_order(shop, SHOPPER, "123.45")
    now = timezone.now()

    points_sync_for_order(shop, order, now=now)

    member = member_get(shop, SHOPPER)
    assert member is not None
    assert balances_of(member, now).pending == 123
    assert balances_of(member, now).available == 0
    later = now + timedelta(days=31)
    assert balances_of(member, later).available == 123
    assert balances_of(member, later).pending == 0
    assert ledger_differences(shop) == []


def test_a_webhook_delivered_twice_earns_once(shop: Shop, program: Program) -> None:
    order = paid_order(shop, SHOPPER)

    points_sync_for_order(shop, order)
    points_sync_for_order(shop, order)

    assert Entry.objects.for_shop(shop).filter(kind=Entry.Kind.EARN).count() == 1
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 100


def test_orders_before_the_program_unpaid_or_of_guests_earn_nothing(shop: Shop, program: Program) -> None:
    points_sync_for_order(shop, paid_order(shop, SHOPPER, at=program.started_at - timedelta(days=3)))
    points_sync_for_order(shop, paid_order(shop, SHOPPER, status="pending"))
    guest = paid_order(shop, SHOPPER)
    guest.customer_shopify_id = None
    points_sync_for_order(shop, guest)

    assert not Entry.objects.for_shop(shop).exists()


def test_refunds_take_points_back_in_proportion_cumulatively_never_more_than_earned(
    shop: Shop, program: Program
) -> None:
    order = paid_order(shop, SHOPPER, "100.00")
    points_sync_for_order(shop, order)

    refund_of(shop, order, "33.33")
    points_sync_for_order(shop, order)
    refund_of(shop, order, "33.33")
    points_sync_for_order(shop, order)
    refund_of(shop, order, "50.00")  # more than what is left: capped
    points_sync_for_order(shop, order)
    points_sync_for_order(shop, order)  # again: nothing more

    taken = [
        entry.points for entry in Entry.objects.for_shop(shop).filter(kind=Entry.Kind.CLAWBACK).order_by("pk")
    ]
    assert taken == [-33, -34, -33]
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 0
    assert member.lifetime == 0
    assert ledger_differences(shop) == []


def test_refunds_known_in_the_reverse_of_the_order_they_were_made_take_back_what_they_take_in_order(
    shop: Shop, program: Program
) -> None:
    # Given an order that earned 100 points, refunded twice, the later refund's webhook first
    order = paid_order(shop, SHOPPER, "100.00")
    points_sync_for_order(shop, order)
    made = timezone.now()
    refund_of(shop, order, "10.00", at=made + timedelta(minutes=5))
    points_sync_for_order(shop, order)

    # When the earlier refund arrives, and the sync runs again after it
    refund_of(shop, order, "20.00", at=made)
    points_sync_for_order(shop, order)
    points_sync_for_order(shop, order)

    # Then 30 points are taken, as when the two arrive in order
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 70
    assert ledger_differences(shop) == []


def test_a_cancellation_takes_back_what_is_left(shop: Shop, program: Program) -> None:
    order = paid_order(shop, SHOPPER, "80.00")
    points_sync_for_order(shop, order)
    refund_of(shop, order, "20.00")
    points_sync_for_order(shop, order)

    order.cancelled_at = timezone.now()
    order.save()
    points_sync_for_order(shop, order)

    assert sum(Entry.objects.for_shop(shop).values_list("points", flat=True)) == 0


def _spend_everything(shop: Shop) -> None:
    points_adjust(shop, SHOPPER, -100, "spent at the counter", actor="42")


def test_a_refund_after_spending_stops_at_zero_and_records_the_debt(shop: Shop, program: Program) -> None:
    order = paid_order(shop, SHOPPER, "100.00")
    points_sync_for_order(shop, order, now=timezone.now() - timedelta(days=40))
    _spend_everything(shop)

    refund_of(shop, order, "100.00")
    points_sync_for_order(shop, order)

    member = member_get(shop, SHOPPER)
    assert member is not None
    assert (member.balance, member.debt) == (0, 100)
    assert ledger_differences(shop) == []


def test_a_refund_after_spending_goes_negative_when_the_merchant_says_so_and_the_next_points_settle_it(
    shop: Shop, program: Program
) -> None:
    program.refund_policy = Program.RefundPolicy.NEGATIVE
    program.save()
    order = paid_order(shop, SHOPPER, "100.00")
    points_sync_for_order(shop, order, now=timezone.now() - timedelta(days=40))
    _spend_everything(shop)
    refund_of(shop, order, "100.00")
    points_sync_for_order(shop, order)
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == -100

    points_sync_for_order(shop, paid_order(shop, SHOPPER, "150.00"))

    member.refresh_from_db()
    assert member.balance == 50
    assert ledger_differences(shop) == []


def test_profile_facts_earn_once_per_lifetime_for_a_member_who_joined(shop: Shop, program: Program) -> None:
    facts_award(shop, SHOPPER, {"gender": "prefer_not_to_say"}, consent_id=None)
    assert not Entry.objects.for_shop(shop).filter(kind=Entry.Kind.PROFILE).exists()  # not joined: nothing

    member_join(shop, SHOPPER, program.incentive_notice_version)
    facts_award(shop, SHOPPER, {"gender": "prefer_not_to_say", "region": {"country": "JP"}}, consent_id=9)
    facts_award(shop, SHOPPER, {"gender": "female"}, consent_id=10)

    entries = Entry.objects.for_shop(shop).filter(kind=Entry.Kind.PROFILE)
    assert sorted(entries.values_list("cause", flat=True)) == ["profile gender", "profile region"]
    assert set(entries.values_list("consent_id", flat=True)) == {9}
    member = member_get(shop, SHOPPER)
    assert member is not None
    assert member.balance == 50 + 25 + 25
    assert member.incentive_notice_version == program.incentive_notice_version


def test_joining_needs_the_notice_in_force(shop: Shop, program: Program) -> None:
    with pytest.raises(Exception, match="notice"):
        member_join(shop, SHOPPER, "an old one")
    assert member_get(shop, SHOPPER) is None


def test_a_new_rules_version_applies_to_what_is_earned_after_it(shop: Shop, program: Program) -> None:
    points_sync_for_order(shop, paid_order(shop, SHOPPER, "10.00"))
    rules_save(shop, {**RULES_DEFAULT, "points_per_unit": "2"})
    points_sync_for_order(shop, paid_order(shop, SHOPPER, "10.00"))

    assert list(Entry.objects.for_shop(shop).order_by("pk").values_list("points", "rules_version")) == [
        (10, 1),
        (20, 2),
    ]


def test_birthday_abuse_earns_nothing_extra(shop: Shop, program: Program) -> None:
    program.birthday_points = 200
    program.save()
    now = timezone.now()
    today = now.astimezone(__import__("zoneinfo").ZoneInfo(shop.timezone)).date()
    tomorrow = today + timedelta(days=1)

    # Set the day before the birthday: nothing in the first 30 days
    facts_award(shop, SHOPPER, {"birthday": {"month": tomorrow.month, "day": tomorrow.day}}, None, now=now)
    assert birthdays_award(shop, now=now + timedelta(days=1)) == 0

    # Once past the wait, the day gives the treat once, however often the job runs
    later = now + timedelta(days=366)
    day = later.astimezone(__import__("zoneinfo").ZoneInfo(shop.timezone)).date()
    facts_award(
        shop, SHOPPER, {"birthday": {"month": day.month, "day": day.day}}, None, now=now
    )  # merchant's change
    member = member_get(shop, SHOPPER)
    assert member is not None
    member.birthday_set_at = now - timedelta(days=60)
    member.save()
    assert birthdays_award(shop, now=later) == 1
    assert birthdays_award(shop, now=later) == 0

    # Moving the date to a later day of the same year gives nothing more
    other = day + timedelta(days=2)
    facts_award(
        shop,
        SHOPPER,
        {"birthday": {"month": other.month, "day": other.day}},
        None,
        now=later - timedelta(days=90),
    )
    member.refresh_from_db()
    Program.objects.filter(pk=program.pk).update()
    member.birthday_set_at = later - timedelta(days=90)
    member.save()
    assert birthdays_award(shop, now=later + timedelta(days=2)) == 0 or day.year != other.year
    assert Entry.objects.for_shop(shop).filter(kind=Entry.Kind.BIRTHDAY).count() == (
        1 if day.year == other.year else 2
    )


def test_a_manual_adjustment_is_available_at_once_audited_and_never_below_zero(
    shop: Shop, program: Program, api_client_for: object
) -> None:
    client: Client = api_client_for(shop)  # type: ignore[operator]

    answer = client.post(
        f"/api/loyalty/customers/{SHOPPER}/adjustments",
        data=json.dumps({"points": 40, "reason": "sorry for the late parcel"}),
        content_type="application/json",
    )
    refused = client.post(
        f"/api/loyalty/customers/{SHOPPER}/adjustments",
        data=json.dumps({"points": -41, "reason": "too much"}),
        content_type="application/json",
    )

    assert answer.status_code == 201, answer.content
    assert answer.json()["balance"]["available"] == 40
    assert answer.json()["entry"]["actor"] == "42"
    assert refused.status_code == 409
    ledger = client.get(f"/api/loyalty/customers/{SHOPPER}").json()
    assert [entry["reason"] for entry in ledger["entries"]] == ["sorry for the late parcel"]
    with pytest.raises(NotEnoughPoints):
        points_adjust(shop, SHOPPER, -41, "again", actor="42")


def test_another_shop_sees_none_of_it(
    shop: Shop, other_shop: Shop, program: Program, api_client_for: object
) -> None:
    points_adjust(shop, SHOPPER, 40, "welcome", actor="42")

    ledger = api_client_for(other_shop).get(f"/api/loyalty/customers/{SHOPPER}").json()  # type: ignore[operator]

    assert ledger["member"] is None
    assert member_get(other_shop, SHOPPER) is None


def test_an_erased_shopper_leaves_amounts_but_not_the_person(shop: Shop, program: Program) -> None:
    order = paid_order(shop, SHOPPER)
    points_sync_for_order(shop, order)
    assert loyalty_export(shop, ShopperRef(customer_id=SHOPPER))["balance"]["pending"] == 100

    loyalty_erase_shopper(shop, ShopperRef(customer_id=SHOPPER))

    assert member_get(shop, SHOPPER) is None
    entry = Entry.objects.for_shop(shop).get()
    assert (entry.points, entry.order_shopify_id, entry.cause) == (100, None, "erased")
    assert str(order.shopify_id) not in entry.idempotency_key
    assert Decimal(entry.points) == 100
