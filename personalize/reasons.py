"""Why a product is proposed, in the shopper's words (English and Japanese): one sentence per kind
of reason, filled from its evidence. The evidence itself travels with the text, so a shopper, the
merchant and a test can check it."""

from __future__ import annotations

import functools
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
    """The sentences for these reasons, in `language`."""
    phrases = _phrases(language)
    return [
        sentence(reason.evidence, names, phrases) if (sentence := SENTENCES.get(reason.kind)) else ""
        for reason in reasons
    ]


@functools.cache
def _phrases(language: str) -> dict[str, str]:
    """The sentences' phrases in `language`, translated once per process (a block shows several
    reasons on every page, and switching language and looking each phrase up cost more than the
    rest of writing them)."""
    with translation.override(language):
        return {
            "repeat": _("You bought this before (order %(order)s)"),
            "bought_together": _("Often bought with %(product)s"),
            "similar_shoppers": _("Shoppers who chose %(product)s like this too"),
            "quiz": _("Picked because you said “%(answer)s”"),
            "you_told_us": _("You told us you like %(category)s"),
            "trending near": _("Popular near you right now"),
            "trending": _("Popular in the shop right now"),
            "seasonal warm": pgettext("season", "Made for the warm days where you are"),
            "seasonal cold": pgettext("season", "Made for the cold days where you are"),
            "seasonal": pgettext("season", "Right for the season where you are"),
            "back_in_size": _("Back in stock in your size, %(size)s"),
            "discovery": _("Something different from what you usually choose"),
        }


Sentence = Callable[[Mapping[str, Any], Names, Mapping[str, str]], str]


def _seasonal(evidence: Mapping[str, Any], names: Names, phrases: Mapping[str, str]) -> str:
    season = evidence.get("season")
    return phrases[f"seasonal {season}"] if season in ("warm", "cold") else phrases["seasonal"]


SENTENCES: dict[str, Sentence] = {
    "repeat": lambda evidence, names, phrases: phrases["repeat"] % {"order": names.first_order(evidence)},
    "bought_together": lambda evidence, names, phrases: (
        phrases["bought_together"] % {"product": names.first_product(evidence)}
    ),
    "similar_shoppers": lambda evidence, names, phrases: (
        phrases["similar_shoppers"] % {"product": names.first_product(evidence)}
    ),
    "you_told_us": lambda evidence, names, phrases: (
        phrases["quiz"] % {"answer": evidence.get("answer", "")}
        if evidence.get("fact") == "quiz"
        else phrases["you_told_us"] % {"category": evidence.get("value", "")}
    ),
    "trending": lambda evidence, names, phrases: (
        phrases["trending near"] if evidence.get("region") else phrases["trending"]
    ),
    "seasonal": _seasonal,
    "back_in_size": lambda evidence, names, phrases: (
        phrases["back_in_size"] % {"size": evidence.get("size", "")}
    ),
    "discovery": lambda evidence, names, phrases: phrases["discovery"],
}
