"""The merchant's rules for recommendations: the discovery share, pinned and excluded products,
and how many items each block shows. Products are named by handle in the admin and kept by id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from commerce.models import Product
from personalize.models import RecommendationSettings
from shop_app.errors import FieldError
from shop_app.models import Shop

BLOCKS = ("for-you", "because-you-bought", "back-in-size", "seasonal", "trending")
LIMIT_DEFAULT = 8
LIMIT_MAX = 24
DISCOVERY_SHARE_MAX = 0.5
PRODUCTS_MAX = 50


class RuleError(FieldError):
    """Refused input of personalize.rules."""


@dataclass(frozen=True)
class RulesInput:
    discovery_share: float
    pinned_handles: Sequence[str]
    excluded_handles: Sequence[str]
    block_limits: Mapping[str, int]


def recommendation_settings(shop: Shop) -> RecommendationSettings:
    """The shop's rules, or the defaults (unsaved) before the merchant set any."""
    return RecommendationSettings.objects.for_shop(shop).first() or RecommendationSettings(shop=shop)


def block_limit(settings: RecommendationSettings, block: str, requested: int | None) -> int:
    most = int((settings.block_limits or {}).get(block, LIMIT_MAX))
    return max(1, min(requested or LIMIT_DEFAULT, most, LIMIT_MAX))


def product_handles(shop: Shop, product_ids: Sequence[int]) -> list[str]:
    """The handles of these products, in this order (a product since deleted is left out)."""
    handles = dict(
        Product.objects.for_shop(shop).filter(shopify_id__in=product_ids).values_list("shopify_id", "handle")
    )
    return [handles[product_id] for product_id in product_ids if product_id in handles]


def recommendation_settings_update(shop: Shop, rules: RulesInput) -> RecommendationSettings:
    """Check and save the merchant's rules; RuleError names the field (and the line of a list)."""
    if not 0 <= rules.discovery_share <= DISCOVERY_SHARE_MAX:
        raise RuleError("discovery_share", f"must be between 0 and {DISCOVERY_SHARE_MAX:.0%}")
    pinned = _product_ids(shop, "pinned", rules.pinned_handles)
    excluded = _product_ids(shop, "excluded", rules.excluded_handles)
    both = set(pinned) & set(excluded)
    if both:
        raise RuleError("excluded", "a product cannot be both pinned and excluded")
    for block, limit in rules.block_limits.items():
        if block not in BLOCKS:
            raise RuleError("block_limits", f"unknown block (one of {', '.join(BLOCKS)})")
        if not 1 <= limit <= LIMIT_MAX:
            raise RuleError(f"block_limits.{block}", f"must be from 1 to {LIMIT_MAX}")
    settings, _ = RecommendationSettings.objects.update_or_create(
        shop=shop,
        defaults={
            "discovery_share": rules.discovery_share,
            "pinned_product_ids": pinned,
            "excluded_product_ids": excluded,
            "block_limits": dict(rules.block_limits),
        },
    )
    return settings


def _product_ids(shop: Shop, field: str, handles: Sequence[str]) -> list[int]:
    cleaned = [handle.strip() for handle in handles if handle.strip()]
    if len(cleaned) > PRODUCTS_MAX:
        raise RuleError(field, f"at most {PRODUCTS_MAX} products")
    known = dict(
        Product.objects.for_shop(shop)
        .filter(handle__in=cleaned, deleted_at__isnull=True)
        .values_list("handle", "shopify_id")
    )
    for line, handle in enumerate(cleaned, start=1):
        if handle not in known:
            raise RuleError(field, f"line {line} is not a product handle of this shop")
    return list(dict.fromkeys(known[handle] for handle in cleaned))
