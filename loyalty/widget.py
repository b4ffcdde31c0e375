"""What the storefront widget shows a shopper (GET /proxy/loyalty), and what the admin's preview
shows the merchant: one function, so the preview is the widget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from loyalty.expiry import points_expiring_soon
from loyalty.ledger import balances_of, member_get
from loyalty.models import Entry, Member, Reward
from loyalty.program import JOIN_WAY, PROFILE_WAYS, program_for, rewards_active, rules_of, tiers_of
from loyalty.tiers import tier_recalculate
from shop_app.models import Shop

LANGUAGES = ("en", "ja")


def widget_language(requested: str, accept_language: str = "") -> str:
    for candidate in (requested, *accept_language.split(",")):
        language = candidate.strip().split(";")[0].split("-")[0].lower()
        if language in LANGUAGES:
            return language
    return "en"


def _reward(reward: Reward, currency: str, available: int | None) -> dict[str, Any]:
    return {
        "id": reward.pk,
        "name": reward.name,
        "kind": reward.kind,
        "value": str(reward.value),
        "currency": currency,
        "points_cost": reward.points_cost,
        "minimum_order": str(reward.minimum_order) if reward.minimum_order is not None else None,
        "expires_after_days": reward.expires_after_days,
        "affordable": available is not None and available >= reward.points_cost,
    }


def widget_for(
    shop: Shop, customer_id: int | None, language: str = "en", now: datetime | None = None
) -> dict[str, Any]:
    now = now or timezone.now()
    program = program_for(shop)
    rules = rules_of(program)
    member: Member | None = member_get(shop, customer_id) if customer_id is not None else None
    done: set[str] = set()
    if member is not None:
        done = set(
            Entry.objects.for_shop(shop)
            .filter(member=member, kind__in=[Entry.Kind.PROFILE, Entry.Kind.JOIN])
            .values_list("cause", flat=True)
        )
    balances = balances_of(member, now) if member is not None else None
    with translation.override(language):
        ways: list[dict[str, Any]] = [
            {
                "key": "orders",
                "label": _("Shopping with us"),
                "asks": "",
                "why": "",
                "points": rules.points_per_unit.normalize().to_eng_string(),
                "per": shop.currency,
                "done": None,
            },
            {
                "key": "join",
                "label": str(JOIN_WAY[0]),
                "asks": "",
                "why": str(JOIN_WAY[1]),
                "points": rules.join_points,
                "done": "joined" in done or (member is not None and member.joined_at is not None),
            },
        ]
        for name, (asks, why) in PROFILE_WAYS.items():
            points = rules.profile_points.get(name, 0)
            if points:
                ways.append(
                    {
                        "key": name,
                        "label": str(asks),
                        "asks": str(asks),
                        "why": str(why),
                        "points": points,
                        "done": f"profile {name}" in done,
                    }
                )
        answer: dict[str, Any] = {
            "program": {
                "enabled": program.enabled,
                "pending_days": rules.pending_days,
                "notice": program.incentive_notice,
                "notice_version": program.incentive_notice_version,
                "birthday_points": program.birthday_points,
            },
            "signed_in": customer_id is not None,
            "ways_to_earn": ways,
            "tiers": [
                {
                    "name": tier.name,
                    "threshold": str(tier.threshold),
                    "multiplier": str(tier.multiplier),
                    "benefits": tier.benefits,
                }
                for tier in tiers_of(shop)
            ],
            "rewards": [
                _reward(reward, shop.currency, balances.available if balances else None)
                for reward in rewards_active(shop)
            ],
            "labels": {
                "points": _("points"),
                "available": _("Available"),
                "pending": _("Pending"),
                "redeem": _("Redeem"),
                "join": _("Join and accept the notice"),
                "to_next": _("to reach"),
                "your_code": _("Your code"),
                "not_enough": _("Not enough points yet"),
            },
        }
    if member is None or balances is None:
        answer["member"] = None
        return answer
    progress = tier_recalculate(shop, member, now)
    answer["member"] = {
        "joined": member.joined_at is not None,
        "available": balances.available,
        "pending": balances.pending,
        "lifetime": balances.lifetime,
        "expiring_soon": points_expiring_soon(member, program, now),
        "tier": progress.tier.name if progress.tier else None,
        "tier_progress": {
            "basis": program.tier_basis,
            "metric": str(progress.metric),
            "next": progress.next_tier.name if progress.next_tier else None,
            "to_next": str(progress.to_next),
        },
    }
    return answer
