"""Loyalty's privacy duties (privacy.registry): a shopper's points and rewards in their export;
erasure removes the person and keeps the amounts for the books (an anonymous member, entries
without the order or consent they named)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from loyalty.ledger import balances_of
from loyalty.models import (
    Entry,
    LedgerDifference,
    Lot,
    LotDraw,
    Member,
    Program,
    Redemption,
    Reward,
    RulesVersion,
    Tier,
)
from privacy.registry import PrivacyProvider, ShopperRef
from shop_app.models import Shop


def _member(shop: Shop, shopper: ShopperRef) -> Member | None:
    if shopper.customer_id is None:
        return None
    return Member.objects.for_shop(shop).filter(customer_shopify_id=shopper.customer_id).first()


def loyalty_export(shop: Shop, shopper: ShopperRef) -> Any:
    member = _member(shop, shopper)
    if member is None:
        return None
    balances = balances_of(member)
    return {
        "balance": {
            "available": balances.available,
            "pending": balances.pending,
            "lifetime": balances.lifetime,
        },
        "joined_at": member.joined_at.isoformat() if member.joined_at else None,
        "financial_incentive_notice_version": member.incentive_notice_version,
        "birthday": {"month": member.birthday_month, "day": member.birthday_day}
        if member.birthday_month
        else None,
        "entries": [
            {
                "points": entry.points,
                "kind": entry.kind,
                "cause": entry.cause,
                "at": entry.created_at.isoformat(),
            }
            for entry in Entry.objects.for_shop(shop).filter(member=member).order_by("created_at", "pk")
        ],
        "rewards": [
            {"reward": redemption.reward.name, "code": redemption.code, "status": redemption.status}
            for redemption in Redemption.objects.for_shop(shop).filter(member=member).select_related("reward")
        ],
    }


def loyalty_erase_shopper(shop: Shop, shopper: ShopperRef) -> dict[str, int]:
    member = _member(shop, shopper)
    if member is None:
        return {"members": 0}
    with transaction.atomic():
        entries = Entry.objects.for_shop(shop).filter(member=member)
        # The one update of entries: their amounts stay, what named the person goes.
        erased = 0
        for pk in entries.values_list("pk", flat=True):
            erased += Entry.objects.filter(pk=pk).update(
                idempotency_key=f"erased:{pk}",
                cause="erased",
                reason="",
                order_shopify_id=None,
                consent_id=None,
            )
        Member.objects.filter(pk=member.pk).update(
            customer_shopify_id=-member.pk,
            birthday_month=None,
            birthday_day=None,
            birthday_set_at=None,
            metafields_value="",
            metafields_written="",
        )
    return {"members": 1, "entries": erased}


def loyalty_erase_shop(shop: Shop) -> dict[str, int]:
    counts = {}
    with transaction.atomic():
        Program.objects.for_shop(shop).update(birthday_reward=None)
        for model in (
            LotDraw,
            Redemption,
            Lot,
            LedgerDifference,
            Entry,
            Member,
            Reward,
            Tier,
            RulesVersion,
            Program,
        ):
            counts[model.__name__.lower()] = model.objects.filter(shop=shop).delete()[0]
    return counts


LOYALTY_PRIVACY_PROVIDER = PrivacyProvider(
    name="loyalty",
    export_shopper=loyalty_export,
    erase_shopper=loyalty_erase_shopper,
    erase_shop=loyalty_erase_shop,
)
