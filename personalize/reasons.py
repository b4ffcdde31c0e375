"""Why a product is proposed, in the shopper's words (English and Japanese): one sentence per kind
of reason, filled from its evidence. The evidence itself travels with the text, so a shopper, the
merchant and a test can check it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

KINDS = (
    "repeat",
    "bought_together",
    "similar_shoppers",
    "you_told_us",
    "trending",
    "seasonal",
    "back_in_size",
    "discovery",
)
LANGUAGES = ("en", "ja")


@dataclass(frozen=True)
class Reason:
    kind: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self, text: str) -> dict[str, Any]:
        return {"kind": self.kind, "text": text, "evidence": dict(self.evidence)}


def storefront_language(requested: str, accept_language: str = "") -> str:
    """The shopper's language: the block's `locale` (the theme's request.locale), else the
    browser's first choice, if we speak it; English otherwise."""
    for candidate in (requested, *(part.split(";")[0] for part in accept_language.split(","))):
        language = candidate.strip().split("-")[0].lower()
        if language in LANGUAGES:
            return language
    return "en"


@dataclass(frozen=True)
class Names:
    """What the evidence points at, by id: product titles and order names."""

    products: Mapping[int, str] = field(default_factory=dict)
    orders: Mapping[int, str] = field(default_factory=dict)

    def first_product(self, evidence: Mapping[str, Any]) -> str:
        return self.products.get(next(iter(evidence.get("products", ())), 0), "")

    def first_order(self, evidence: Mapping[str, Any]) -> str:
        return self.orders.get(next(iter(evidence.get("orders", ())), 0), "")


def reason_texts(reasons: Iterable[Reason], language: str, names: Names) -> list[str]:
    """The sentences for these reasons, in `language` (switched to once for all of them)."""
    with translation.override(language):
        return [
            sentence(reason.evidence, names) if (sentence := SENTENCES.get(reason.kind)) else ""
            for reason in reasons
        ]


def _trending(evidence: Mapping[str, Any], names: Names) -> str:
    if evidence.get("region"):
        return _("Popular near you right now")
    return _("Popular in the shop right now")


def _seasonal(evidence: Mapping[str, Any], names: Names) -> str:
    season = evidence.get("season")
    if season == "warm":
        return pgettext("season", "Made for the warm days where you are")
    if season == "cold":
        return pgettext("season", "Made for the cold days where you are")
    return pgettext("season", "Right for the season where you are")


SENTENCES: dict[str, Callable[[Mapping[str, Any], Names], str]] = {
    "repeat": lambda evidence, names: (
        _("You bought this before (order %(order)s)") % {"order": names.first_order(evidence)}
    ),
    "bought_together": lambda evidence, names: (
        _("Often bought with %(product)s") % {"product": names.first_product(evidence)}
    ),
    "similar_shoppers": lambda evidence, names: (
        _("Shoppers who chose %(product)s like this too") % {"product": names.first_product(evidence)}
    ),
    "you_told_us": lambda evidence, names: (
        _("Picked because you said “%(answer)s”") % {"answer": evidence.get("answer", "")}
        if evidence.get("fact") == "quiz"
        else _("You told us you like %(category)s") % {"category": evidence.get("value", "")}
    ),
    "trending": _trending,
    "seasonal": _seasonal,
    "back_in_size": lambda evidence, names: (
        _("Back in stock in your size, %(size)s") % {"size": evidence.get("size", "")}
    ),
    "discovery": lambda evidence, names: _("Something different from what you usually choose"),
}
