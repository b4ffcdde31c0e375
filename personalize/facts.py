"""What shoppers tell us: facts, validated, recorded with the consent they were given under, and
withdrawn without erasing the history of what was said.

A submission is all or nothing: every value is checked before anything is stored, and an error
names the field (`facts.birthday.day`), never the value (it may be personal).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from commerce.models import Collection, Product
from personalize.climate import climate_for
from personalize.models import ConsentRecord, Fact, FactSource
from personalize.profiles import ToldFacts
from personalize.served import served_forget
from privacy.suppression import privacy_hash
from shop_app.errors import FieldError
from shop_app.models import Shop

GENDERS = ("female", "male", "non_binary", "prefer_not_to_say")
LIST_MAX = 30
TEXT_MAX = 255
CONSENT_TEXT_MAX = 5_000
REGION_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# What a shopper may set only once: later changes are the merchant's (a birthday treat must not be
# claimable every month by moving the date).
SET_ONCE_BY_SHOPPER = frozenset({Fact.Name.BIRTHDAY})
SHOPPER_SOURCES = frozenset({FactSource.STOREFRONT, FactSource.QUIZ, FactSource.NEWSLETTER})


class FactError(FieldError):
    """A submission refused: `field` names where (e.g. `facts.birthday.month`)."""


@dataclass(frozen=True)
class ConsentGiven:
    """The consent as the shopper saw it, and where the request came from (hashed on storing)."""

    text: str
    version: str
    language: str = "en"
    ip_address: str = ""
    user_agent: str = ""


def consent_clean(data: Any) -> tuple[str, str, str]:
    """(text, version, language) of a submitted consent, or FactError naming the field."""
    if not isinstance(data, Mapping):
        raise FactError("consent", "must be an object with text and version")
    text, version, language = data.get("text"), data.get("version"), data.get("language") or "en"
    if not isinstance(text, str) or not text.strip() or len(text) > CONSENT_TEXT_MAX:
        raise FactError("consent.text", f"must be the text shown, 1 to {CONSENT_TEXT_MAX} characters")
    if not isinstance(version, str) or not version.strip() or len(version) > 32:
        raise FactError("consent.version", "must be 1 to 32 characters")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        raise FactError("consent.language", "must be a language code such as en or ja")
    return text, version.strip(), language


# --- Each fact's value ---------------------------------------------------------------------------


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
        raise FactError(field, f"must be text of 1 to {TEXT_MAX} characters")
    return value.strip()


def _text_list(field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise FactError(field, f"must be a list of at most {LIST_MAX} items")
    cleaned = [_text(f"{field}[{index}]", item) for index, item in enumerate(value)]
    return list(dict.fromkeys(cleaned))


def _birthday(shop: Shop, field: str, value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping) or set(value) != {"month", "day"}:
        raise FactError(field, "must be {month, day}: no year is asked")
    month, day = value["month"], value["day"]
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise FactError(f"{field}.month", "must be a month from 1 to 12")
    # 2024 is a leap year: 29 February is a birthday.
    if (
        not isinstance(day, int)
        or isinstance(day, bool)
        or not 1 <= day <= calendar.monthrange(2024, month)[1]
    ):
        raise FactError(f"{field}.day", "must be a day of that month")
    return {"month": month, "day": day}


def _gender(shop: Shop, field: str, value: Any) -> str:
    if value not in GENDERS:
        raise FactError(field, f"must be one of {', '.join(GENDERS)}")
    return str(value)


def _region(shop: Shop, field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not set(value) <= {"country", "region"} or "country" not in value:
        raise FactError(field, "must be {country, region}: a country code and optionally its region")
    country, region = value["country"], value.get("region", "")
    if not isinstance(country, str) or climate_for(country.upper()) is None:
        raise FactError(f"{field}.country", "must be a country code (ISO 3166-1, e.g. JP)")
    if not isinstance(region, str) or (region and not REGION_CODE.match(region.upper())):
        raise FactError(f"{field}.region", "must be a region code (ISO 3166-2, e.g. JP-13)")
    country, region = country.upper(), region.upper()
    if region and not region.startswith(f"{country}-"):
        raise FactError(f"{field}.region", "must be a region of that country")
    return {"country": country, "region": region}


def _sizes(shop: Shop, field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or len(value) > LIST_MAX:
        raise FactError(field, f"must map product types to sizes, at most {LIST_MAX}")
    known = shop_categories(shop)
    sizes = {}
    for product_type, size in value.items():
        if product_type not in known:
            raise FactError(f"{field}", "names a product type this shop does not sell")
        sizes[product_type] = _text(f"{field}.{product_type}", size)
    return sizes


def _categories(shop: Shop, field: str, value: Any) -> list[str]:
    categories = _text_list(field, value)
    known = shop_categories(shop)
    for index, category in enumerate(categories):
        if category not in known:
            raise FactError(f"{field}[{index}]", "is not a product type or collection of this shop")
    return categories


def _topics(shop: Shop, field: str, value: Any) -> list[str]:
    return _text_list(field, value)


def _quiz(shop: Shop, field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value or len(value) > LIST_MAX:
        raise FactError(field, f"must map questions to answers, 1 to {LIST_MAX}")
    answers: dict[str, Any] = {}
    for question, answer in value.items():
        if not isinstance(question, str) or not 0 < len(question) <= 64:
            raise FactError(field, "question ids must be 1 to 64 characters")
        answers[question] = (
            _text_list(f"{field}.{question}", answer)
            if isinstance(answer, list)
            else _text(f"{field}.{question}", answer)
        )
    return answers


FACT_VALUES: dict[str, Callable[[Shop, str, Any], Any]] = {
    Fact.Name.BIRTHDAY: _birthday,
    Fact.Name.GENDER: _gender,
    Fact.Name.REGION: _region,
    Fact.Name.SIZES: _sizes,
    Fact.Name.FAVOURITE_CATEGORIES: _categories,
    Fact.Name.EXCLUDED_CATEGORIES: _categories,
    Fact.Name.TOPICS: _topics,
    Fact.Name.QUIZ: _quiz,
}


def shop_categories(shop: Shop) -> set[str]:
    """What a shopper may name as a category: the shop's product types and collection handles."""
    types = Product.objects.for_shop(shop).filter(deleted_at__isnull=True).exclude(product_type="")
    handles = Collection.objects.for_shop(shop).filter(deleted_at__isnull=True)
    return set(types.values_list("product_type", flat=True)) | set(handles.values_list("handle", flat=True))


def facts_clean(shop: Shop, facts: Any) -> dict[str, Any]:
    """The submitted facts checked and normalized; None stands for a withdrawal."""
    if not isinstance(facts, Mapping) or not facts:
        raise FactError("facts", "must be an object with at least one fact")
    cleaned = {}
    for name, value in facts.items():
        if name not in FACT_VALUES:
            raise FactError(f"facts.{name}"[:80], f"is not a fact we ask for ({', '.join(FACT_VALUES)})")
        cleaned[name] = None if value is None else FACT_VALUES[name](shop, f"facts.{name}", value)
    return cleaned


# --- Recording ------------------------------------------------------------------------------------


def facts_record(
    shop: Shop,
    customer_shopify_id: int,
    facts: Mapping[str, Any],
    *,
    source: str,
    consent: ConsentGiven | None,
    on_recorded: Callable[[Shop, int], None] | None = None,
    now: datetime | None = None,
) -> list[Fact]:
    """Record a shopper's facts (cleaned by `facts_clean`), all or nothing. Values need the
    consent they are given under; withdrawals (None) do not. `on_recorded` runs after commit (the
    profile's refresh)."""
    now = now or timezone.now()
    telling = {name: value for name, value in facts.items() if value is not None}
    if telling and consent is None:
        raise FactError("consent", "is required to tell us something")
    with transaction.atomic():
        current = facts_current(shop, [customer_shopify_id]).get(customer_shopify_id, {})
        if source in SHOPPER_SOURCES:
            told_before = set(
                Fact.objects.for_shop(shop)
                .filter(
                    customer_shopify_id=customer_shopify_id, name__in=SET_ONCE_BY_SHOPPER, withdrawn=False
                )
                .values_list("name", flat=True)
            )
            for name, value in telling.items():
                if name in told_before and (name not in current or current[name].value != value):
                    raise FactError(f"facts.{name}", "was already given; ask the shop to change it")
        record = None
        if telling and consent is not None:
            record = ConsentRecord.objects.create(
                shop=shop,
                customer_shopify_id=customer_shopify_id,
                text=consent.text,
                version=consent.version,
                language=consent.language,
                source=source,
                given_at=now,
                ip_hash=privacy_hash(shop, "ip", consent.ip_address) if consent.ip_address else "",
                user_agent_hash=privacy_hash(shop, "user-agent", consent.user_agent)
                if consent.user_agent
                else "",
            )
        rows = []
        for name, value in facts.items():
            if value is None and name not in current:
                continue  # nothing to withdraw
            if value is not None and name in current and current[name].value == value:
                continue  # told again as it was: the older statement stands
            rows.append(
                Fact(
                    shop=shop,
                    customer_shopify_id=customer_shopify_id,
                    name=name,
                    value=value,
                    withdrawn=value is None,
                    source=source,
                    consent=record if value is not None else None,
                    stated_at=now,
                )
            )
        Fact.objects.bulk_create(rows)
        if rows:
            served_forget(shop, [customer_shopify_id])
        if rows and on_recorded is not None:
            transaction.on_commit(lambda: on_recorded(shop, customer_shopify_id))
        told_now = {row.name: row.value for row in rows if not row.withdrawn}
        if told_now:
            consent_id = record.pk if record is not None else None
            for callback in _FACTS_RECORDED:
                transaction.on_commit(
                    lambda callback=callback: callback(shop, customer_shopify_id, told_now, consent_id)  # type: ignore[misc]
                )
    return rows


# Told after commit, from whatever source, with the facts newly told (name -> value) and the id of
# the consent they were given under: registered by webhooks.reactions (loyalty's points for
# profile data), never by a Django signal.
FactsRecorded = Callable[[Shop, int, Mapping[str, Any], int | None], object]
_FACTS_RECORDED: list[FactsRecorded] = []


def facts_recorded_register(callback: FactsRecorded) -> None:
    if callback not in _FACTS_RECORDED:
        _FACTS_RECORDED.append(callback)


def facts_current(shop: Shop, customer_shopify_ids: Sequence[int]) -> dict[int, dict[str, Fact]]:
    """Each shopper's current facts by name: the newest statement of each, unless withdrawn."""
    return _current(Fact.objects.for_shop(shop).filter(customer_shopify_id__in=list(customer_shopify_ids)))


def facts_told_in(facts: QuerySet[Fact]) -> dict[int, ToldFacts]:
    """What profiles use of the current facts of the shoppers `facts` selects (one shop's rows)."""
    told = {}
    for customer, current in _current(facts.filter(name__in=[Fact.Name.SIZES, Fact.Name.REGION])).items():
        # Current facts are never withdrawn, so their values are there, as facts_clean left them.
        sizes: dict[str, str] = current[Fact.Name.SIZES].value or {} if Fact.Name.SIZES in current else {}
        region: dict[str, str] = current[Fact.Name.REGION].value or {} if Fact.Name.REGION in current else {}
        told[customer] = ToldFacts(
            sizes=sizes, country_code=region.get("country", ""), region_code=region.get("region", "")
        )
    return told


def _current(facts: QuerySet[Fact]) -> dict[int, dict[str, Fact]]:
    newest: dict[int, dict[str, Fact]] = {}
    for fact in facts.order_by("customer_shopify_id", "name", "-stated_at", "-pk"):
        newest.setdefault(fact.customer_shopify_id, {}).setdefault(fact.name, fact)
    return {
        customer: {name: fact for name, fact in by_name.items() if not fact.withdrawn}
        for customer, by_name in newest.items()
    }


def fact_history(shop: Shop, customer_shopify_id: int) -> list[Fact]:
    """Every statement and withdrawal of a shopper, newest first, with its consent."""
    return list(
        Fact.objects.for_shop(shop)
        .filter(customer_shopify_id=customer_shopify_id)
        .select_related("consent")
        .order_by("-stated_at", "-pk")
    )
