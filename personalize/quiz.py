"""The quiz: the merchant writes at most ten questions, each option pointing at product types and
tags; a shopper answers in a block and sees picks at once, each "picked because you said …"; "not
quite" on a pick says why (style, size, price, taste) and the quiz proposes again without it.

Answers are facts told under consent (personalize.facts, fact `quiz`). A guest's answers wait
against their visitor id and become the customer's facts when they sign in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from commerce.models import Product, Variant
from personalize.facts import ConsentGiven, FactError, facts_record
from personalize.models import FactSource, Quiz, QuizAnswer
from personalize.picks import Pick, picks_rank, shopper_for, trending_for
from personalize.recommend import Candidate
from shop_app.errors import FieldError
from shop_app.models import Shop

QUESTIONS_MAX = 10
OPTIONS_MAX = 12
PICKS = 4
WHY = ("style", "size", "price", "taste")
VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class QuizError(FieldError):
    """Refused input of personalize.quiz."""


# --- The merchant's quiz ---------------------------------------------------------------------------------


def quiz_for(shop: Shop, *, published_only: bool = True) -> Quiz | None:
    quizzes = Quiz.objects.for_shop(shop)
    if published_only:
        quizzes = quizzes.filter(published=True)
    return quizzes.first()


def quiz_save(shop: Shop, title: Any, questions: Any, *, published: bool) -> Quiz:
    """Check and save the shop's quiz; QuizError names the field (e.g. `questions[2].options`)."""
    if not isinstance(title, str) or not title.strip() or len(title) > 255:
        raise QuizError("title", "must be 1 to 255 characters")
    cleaned = _questions_clean(questions)
    quiz, _ = Quiz.objects.update_or_create(
        shop=shop, defaults={"title": title.strip(), "questions": cleaned, "published": published}
    )
    return quiz


def _text(field: str, value: Any, most: int = 255) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise QuizError(field, f"must be 1 to {most} characters")
    return value.strip()


def _words(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 20:
        raise QuizError(field, "must be a list of at most 20")
    return [_text(f"{field}[{index}]", item, 100) for index, item in enumerate(value)]


def _questions_clean(questions: Any) -> list[dict[str, Any]]:
    if not isinstance(questions, list) or not 1 <= len(questions) <= QUESTIONS_MAX:
        raise QuizError("questions", f"must be 1 to {QUESTIONS_MAX} questions")
    cleaned = []
    for number, question in enumerate(questions):
        field = f"questions[{number}]"
        if not isinstance(question, Mapping):
            raise QuizError(field, "must be an object with text, kind and options")
        kind = question.get("kind", "single")
        if kind not in ("single", "multiple"):
            raise QuizError(f"{field}.kind", "must be single or multiple")
        options = question.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= OPTIONS_MAX:
            raise QuizError(f"{field}.options", f"must be 2 to {OPTIONS_MAX} options")
        cleaned_options = []
        for index, option in enumerate(options):
            option_field = f"{field}.options[{index}]"
            if not isinstance(option, Mapping):
                raise QuizError(option_field, "must be an object with a label")
            product_types = _words(f"{option_field}.product_types", option.get("product_types"))
            tags = _words(f"{option_field}.tags", option.get("tags"))
            cleaned_options.append(
                {
                    "id": f"q{number + 1}o{index + 1}",
                    "label": _text(f"{option_field}.label", option.get("label"), 100),
                    "product_types": product_types,
                    "tags": tags,
                }
            )
        cleaned.append(
            {
                "id": f"q{number + 1}",
                "text": _text(f"{field}.text", question.get("text")),
                "kind": kind,
                "options": cleaned_options,
            }
        )
    return cleaned


def quiz_public(quiz: Quiz) -> dict[str, Any]:
    """What the storefront shows: questions and option labels (not what they map to)."""
    return {
        "id": quiz.pk,
        "title": quiz.title,
        "questions": [
            {
                "id": question["id"],
                "text": question["text"],
                "kind": question["kind"],
                "options": [{"id": option["id"], "label": option["label"]} for option in question["options"]],
            }
            for question in quiz.questions
        ],
    }


# --- A shopper's answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """An option the shopper chose, with its question."""

    question: str
    option: Mapping[str, Any]


def answers_clean(quiz: Quiz, answers: Any) -> dict[str, list[str]]:
    """{question id: [option ids]}, every question of the quiz answered with its own options."""
    if not isinstance(answers, Mapping):
        raise QuizError("answers", "must map each question to its answer")
    cleaned = {}
    for question in quiz.questions:
        answer = answers.get(question["id"])
        chosen = answer if isinstance(answer, list) else [answer] if answer is not None else []
        known = {option["id"] for option in question["options"]}
        if not chosen or any(not isinstance(option, str) or option not in known for option in chosen):
            raise QuizError(f"answers.{question['id']}", "must be one of the question's options")
        if question["kind"] == "single" and len(chosen) > 1:
            raise QuizError(f"answers.{question['id']}", "takes one option")
        cleaned[question["id"]] = list(dict.fromkeys(chosen))
    unknown = set(answers) - set(cleaned)
    if unknown:
        raise QuizError("answers", "names a question this quiz does not have")
    return cleaned


def quiz_answer(
    shop: Shop,
    quiz: Quiz,
    answers: dict[str, list[str]],
    consent: ConsentGiven,
    *,
    customer_id: int | None,
    visitor: str,
) -> QuizAnswer:
    """Keep the answers: a signed-in shopper's become facts at once; a guest's wait for sign-in."""
    if visitor and not VISITOR.match(visitor):
        raise QuizError("visitor", "must be 8 to 64 letters, digits, - or _")
    if customer_id is None and not visitor:
        raise QuizError("visitor", "is required for a guest")
    with transaction.atomic():
        answer = QuizAnswer.objects.create(
            shop=shop,
            visitor=visitor,
            customer_shopify_id=customer_id,
            answers=answers,
            consent_text=consent.text,
            consent_version=consent.version,
            consent_language=consent.language,
            answered_at=timezone.now(),
        )
        if customer_id is not None:
            _answers_as_facts(shop, answer, customer_id, consent)
    return answer


def quiz_answers_join(shop: Shop, visitor: str, customer_id: int) -> int:
    """A guest who answered signed in: their waiting answers become their facts. Returns how many."""
    if not visitor or not VISITOR.match(visitor):
        return 0
    joined = 0
    with transaction.atomic():
        for answer in (
            QuizAnswer.objects.for_shop(shop)
            .filter(visitor=visitor, joined_at__isnull=True)
            .order_by("answered_at")
        ):
            consent = ConsentGiven(answer.consent_text, answer.consent_version, answer.consent_language)
            _answers_as_facts(shop, answer, customer_id, consent)
            joined += 1
    return joined


def _answers_as_facts(shop: Shop, answer: QuizAnswer, customer_id: int, consent: ConsentGiven) -> None:
    try:
        facts_record(shop, customer_id, {"quiz": answer.answers}, source=FactSource.QUIZ, consent=consent)
    except FactError as error:
        raise QuizError("answers", error.message) from error
    QuizAnswer.objects.filter(pk=answer.pk).update(customer_shopify_id=customer_id, joined_at=timezone.now())


def retry_clean(body: Mapping[str, Any]) -> tuple[int, str, list[int]]:
    """(rejected, why, shown) of a "not quite", or QuizError naming the field."""
    rejected, why, shown = body.get("rejected"), body.get("why", ""), body.get("shown", [])
    if not isinstance(rejected, int) or not _is_id(rejected):
        raise QuizError("rejected", "must be the product id of the pick that missed")
    if why not in (*WHY, ""):
        raise QuizError("why", f"must be one of {', '.join(WHY)}")
    if not isinstance(shown, list) or len(shown) > 100 or not all(_is_id(item) for item in shown):
        raise QuizError("shown", "must be the product ids shown before")
    return rejected, str(why), [int(item) for item in shown]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


# --- Picks --------------------------------------------------------------------------------------------


def quiz_picks(
    shop: Shop,
    quiz: Quiz,
    answers: dict[str, list[str]],
    *,
    customer_id: int | None,
    rejected: int | None = None,
    why: str = "",
    shown: Sequence[int] = (),
    today: date | None = None,
) -> list[Pick]:
    """Products matching the chosen options, popular first, each picked "because you said" the
    option it matches; without what was rejected and shown before, and away from why it missed."""
    chosen = [
        Chosen(question["id"], option)
        for question in quiz.questions
        for option in question["options"]
        if option["id"] in answers.get(question["id"], [])
    ]
    popularity = {candidate.item: candidate.score for candidate in trending_for(shop, None)}
    products = list(_matching(shop, chosen))
    avoid = _avoid(shop, rejected, why)
    candidates, evidence = [], {}
    for product in products:
        if product.shopify_id == rejected or product.shopify_id in shown or avoid(product):
            continue
        matched = [choice for choice in chosen if _matches(product, choice.option)]
        candidates.append(
            Candidate(
                item=product.shopify_id,
                score=len(matched) + popularity.get(product.shopify_id, 0.0) / 1_000,
                kind="you_told_us",
                evidence=(),
            )
        )
        evidence[product.shopify_id] = {
            "fact": "quiz",
            "question": matched[0].question,
            "option": matched[0].option["id"],
            "answer": matched[0].option["label"],
        }
    return picks_rank(
        shop,
        shopper_for(shop, customer_id),
        candidates,
        limit=PICKS,
        evidence=evidence,
        today=today or timezone.localdate(),
    )


def _matching(shop: Shop, chosen: Sequence[Chosen]) -> Any:
    query = Q(pk__in=[])
    for choice in chosen:
        if choice.option["product_types"]:
            query |= Q(product_type__in=choice.option["product_types"])
        for tag in choice.option["tags"]:
            query |= Q(tags__icontains=tag)
    return Product.objects.for_shop(shop).filter(query, status=Product.Status.ACTIVE, deleted_at__isnull=True)


def _matches(product: Product, option: Mapping[str, Any]) -> bool:
    tags = {tag.lower() for tag in product.tag_list}
    return product.product_type in option["product_types"] or bool(
        tags & {tag.lower() for tag in option["tags"]}
    )


def _avoid(shop: Shop, rejected: int | None, why: str) -> Any:
    """What to keep away from after a miss: the same type and vendor (style), the same tags
    (taste), as dear or dearer (price); a size miss only drops the product itself."""
    product = Product.objects.for_shop(shop).filter(shopify_id=rejected).first() if rejected else None
    if product is None or why not in WHY:
        return lambda candidate: False
    if why == "style":
        return lambda candidate: (
            (candidate.product_type, candidate.vendor) == (product.product_type, product.vendor)
        )
    if why == "taste":
        tags = {tag.lower() for tag in product.tag_list}
        return lambda candidate: bool(tags & {tag.lower() for tag in candidate.tag_list})
    if why == "price":
        prices = _lowest_prices(shop)
        ceiling = prices.get(product.shopify_id, Decimal(0))
        return lambda candidate: prices.get(candidate.shopify_id, Decimal(0)) >= ceiling
    return lambda candidate: False


def _lowest_prices(shop: Shop) -> dict[int, Decimal]:
    """Each product's lowest variant price. One query."""
    return dict(
        Variant.objects.for_shop(shop)
        .values("product__shopify_id")
        .annotate(lowest=Min("price"))
        .values_list("product__shopify_id", "lowest")
    )
