"""The shopper's doors through the app proxy (shop_app.proxy): their profile, and recommendations.

Profile:

- `GET /proxy/profile`: what the shop believes about the signed-in shopper, what they told (each
  fact with where and when) and what their orders suggest (each part with what it came from);
- `POST /proxy/profile` with `{"facts": {...}, "consent": {"text", "version", "language"}}`:
  tell us more or correct us; `null` for a fact withdraws it. All or nothing: a bad value gets a
  400 naming the field, and nothing is stored.

Guests get 401: a profile belongs to a signed-in shopper.

Recommendations: `GET /proxy/recommendations?block=...` (personalize.picks) and
`POST /proxy/recommendations/dismiss` ("not for me").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commerce.models import Product
from personalize.facts import ConsentGiven, FactError, consent_clean, facts_clean, facts_current, facts_record
from personalize.feedback import EventError, storefront_events_record
from personalize.models import FactSource, Profile
from personalize.picks import block_picks, dismissal_record, picks_as_json
from personalize.quiz import (
    QuizError,
    answers_clean,
    quiz_answer,
    quiz_answers_join,
    quiz_for,
    quiz_picks,
    quiz_public,
    retry_clean,
)
from personalize.reasons import storefront_language
from personalize.refresh import profile_refresh, profile_refresh_later
from personalize.rules import BLOCKS, LIMIT_MAX
from shop_app.errors import FieldError
from shop_app.proxy import (
    StorefrontVisit,
    client_address,
    proxy_error,
    proxy_json_body,
    storefront_view,
)


@csrf_exempt  # the app proxy's signature stands in for a CSRF token: only Shopify can sign
@require_http_methods(["GET", "POST"])
@storefront_view
def proxy_profile(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    if visit.customer_id is None:
        return proxy_error("customer", "sign in to see and change your profile", status=401)
    if request.method == "POST":
        refused = _profile_tell(request, visit, visit.customer_id)
        if refused is not None:
            return refused
    return JsonResponse(profile_as_shopper_sees_it(visit, visit.customer_id))


def _profile_tell(request: HttpRequest, visit: StorefrontVisit, customer_id: int) -> HttpResponse | None:
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if not set(body) <= {"facts", "consent"}:
        return proxy_error("body", "must be an object with facts and consent")
    try:
        facts = facts_clean(visit.shop, body.get("facts"))
        consent = None
        if any(value is not None for value in facts.values()):
            text, version, language = consent_clean(body.get("consent"))
            consent = ConsentGiven(
                text=text,
                version=version,
                language=language,
                ip_address=client_address(request),
                user_agent=request.headers.get("User-Agent", "")[:512],
            )
        facts_record(
            visit.shop,
            customer_id,
            facts,
            source=FactSource.STOREFRONT,
            consent=consent,
            on_recorded=profile_refresh_later,
        )
    except FactError as error:
        return proxy_error(error.field, error.message)
    return None


def profile_as_shopper_sees_it(visit: StorefrontVisit, customer_id: int) -> dict[str, Any]:
    shop = visit.shop
    facts = facts_current(shop, [customer_id]).get(customer_id, {})
    profile = Profile.objects.for_shop(shop).filter(customer_shopify_id=customer_id).first()
    if profile is None:
        profile = profile_refresh(shop, customer_id)
    return {
        "customer": customer_id,
        "told": {
            name: {"value": fact.value, "source": fact.source, "stated_at": fact.stated_at.isoformat()}
            for name, fact in sorted(facts.items())
        },
        "inferred": profile_inferred(profile) if profile is not None else None,
    }


def profile_inferred(profile: Profile) -> dict[str, Any]:
    """The derived parts of a profile, each with what it came from. Sizes and region already
    put what the shopper told first (their `source` says which)."""
    from_orders = f"{profile.order_count} orders" if profile.order_count else "no orders yet"
    return {
        "as_of": profile.as_of.isoformat(),
        "segment": {"value": profile.segment, "from": from_orders},
        "orders": {
            "count": profile.order_count,
            "first": profile.first_order_at.isoformat() if profile.first_order_at else None,
            "last": profile.last_order_at.isoformat() if profile.last_order_at else None,
            "total_spent": str(profile.total_spent),
            "average": str(profile.average_order_value),
            "currency": profile.currency,
        },
        "typical_days_between_orders": profile.typical_days_between_orders,
        "expected_next_order_on": (
            profile.expected_next_order_on.isoformat() if profile.expected_next_order_on else None
        ),
        "tastes": {"value": profile.affinities, "from": f"what you kept of {from_orders}, recent first"},
        "sizes": profile.sizes,
        "price_band": {"value": profile.price_band, "from": "prices you paid against the shop's range"},
        "region": {
            "country": profile.country_code,
            "region": profile.region_code,
            "climate": profile.climate_band,
            "hemisphere": profile.hemisphere,
            "from": profile.region_source,
        },
    }


# --- Recommendations -------------------------------------------------------------------------------

# The longest locale a theme sends (BCP 47 tags such as "pt-BR", "zh-Hant-TW").
LOCALE_MAX = 16


@require_GET
@storefront_view
def proxy_recommendations(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """GET /proxy/recommendations?block=&product_id=&limit=&locale=: a block's items, each with
    its reason; JSON, or an HTML fragment for `Accept: text/html`. Guests get what is not personal
    (trending, seasonal for the shop's region, bought together with the product shown)."""
    try:
        query = BlockQuery.parse(request.GET)
    except FieldError as error:
        return proxy_error(error.field, error.message)
    block = query.block
    picks, names = block_picks(
        visit.shop, block, customer_id=visit.customer_id, product_id=query.product_id, limit=query.limit
    )
    language = storefront_language(query.locale, request.headers.get("Accept-Language", ""))
    items = picks_as_json(visit.shop, picks, language, names)
    if "text/html" in request.headers.get("Accept", ""):
        with translation.override(language):
            return render(
                request,
                "personalize/recommendations.html",
                {"block": block, "items": items, "signed_in": visit.customer_id is not None},
            )
    return JsonResponse({"block": block, "items": items})


@dataclass(frozen=True)
class BlockQuery:
    """What a block request asks: the block, the product shown (product pages), how many items at
    most, the theme's locale."""

    block: str
    product_id: int | None
    limit: int | None
    locale: str

    @classmethod
    def parse(cls, query: QueryDict) -> BlockQuery:
        """The query checked, or FieldError naming the first field that is wrong (its value is
        never echoed)."""
        block = query.get("block", "")
        if block not in BLOCKS:
            raise FieldError("block", f"must be one of {', '.join(BLOCKS)}")
        locale = query.get("locale", "")
        if len(locale) > LOCALE_MAX:
            raise FieldError("locale", f"must be at most {LOCALE_MAX} characters")
        return cls(
            block=block,
            product_id=_whole_number(query, "product_id", 2**63 - 1),
            limit=_whole_number(query, "limit", LIMIT_MAX),
            locale=locale,
        )


def _whole_number(query: QueryDict, field: str, most: int) -> int | None:
    text = query.get(field, "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= most:
        raise FieldError(field, f"must be a whole number from 1 to {most}")
    return int(text)


@csrf_exempt  # the app proxy's signature stands in for a CSRF token
@require_POST
@storefront_view
def proxy_recommendation_dismiss(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """POST /proxy/recommendations/dismiss with {"product_id"}: "not for me". The product is not
    proposed to this shopper again."""
    if visit.customer_id is None:
        return proxy_error("customer", "sign in to tell us what is not for you", status=401)
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    product_id = body.get("product_id")
    if not isinstance(product_id, int) or isinstance(product_id, bool) or not 0 < product_id < 2**63:
        return proxy_error("product_id", "must be a product id")
    if not Product.objects.for_shop(visit.shop).filter(shopify_id=product_id).exists():
        return proxy_error("product_id", "is not a product of this shop")
    dismissal_record(visit.shop, visit.customer_id, product_id)
    return JsonResponse({"dismissed": product_id})


# --- The quiz ---------------------------------------------------------------------------------------


@require_GET
@storefront_view
def proxy_quiz(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """GET /proxy/quiz: the shop's published quiz, or 404. A signed-in visitor's waiting answers
    (given as a guest, `visitor`) become theirs."""
    if visit.customer_id is not None:
        quiz_answers_join(visit.shop, request.GET.get("visitor", ""), visit.customer_id)
    quiz = quiz_for(visit.shop)
    if quiz is None:
        return proxy_error("quiz", "this shop has no quiz", status=404)
    return JsonResponse({"quiz": quiz_public(quiz)})


@csrf_exempt  # the app proxy's signature stands in for a CSRF token
@require_POST
@storefront_view
def proxy_quiz_answers(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """POST /proxy/quiz/answers {"answers", "visitor", "consent"}: keep the answers (under the
    consent shown) and answer picks at once."""
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    quiz = quiz_for(visit.shop)
    if quiz is None:
        return proxy_error("quiz", "this shop has no quiz", status=404)
    try:
        answers = answers_clean(quiz, body.get("answers"))
        text, version, language = consent_clean(body.get("consent"))
        consent = ConsentGiven(
            text, version, language, client_address(request), request.headers.get("User-Agent", "")[:512]
        )
        quiz_answer(
            visit.shop,
            quiz,
            answers,
            consent,
            customer_id=visit.customer_id,
            visitor=str(body.get("visitor", "")),
        )
    except (QuizError, FactError) as error:
        return proxy_error(error.field, error.message)
    picks = quiz_picks(visit.shop, quiz, answers, customer_id=visit.customer_id)
    return JsonResponse({"picks": picks_as_json(visit.shop, picks, language)})


@csrf_exempt  # the app proxy's signature stands in for a CSRF token
@require_POST
@storefront_view
def proxy_quiz_retry(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """POST /proxy/quiz/retry {"answers", "rejected", "why", "shown"}: "not quite": propose again,
    without the rejected pick and away from why it missed."""
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    quiz = quiz_for(visit.shop)
    if quiz is None:
        return proxy_error("quiz", "this shop has no quiz", status=404)
    try:
        answers = answers_clean(quiz, body.get("answers"))
        rejected, why, shown = retry_clean(body)
    except QuizError as error:
        return proxy_error(error.field, error.message)
    if visit.customer_id is not None:
        dismissal_record(visit.shop, visit.customer_id, rejected, reason=why)
    picks = quiz_picks(
        visit.shop, quiz, answers, customer_id=visit.customer_id, rejected=rejected, why=why, shown=shown
    )
    language = storefront_language(request.GET.get("locale", ""), request.headers.get("Accept-Language", ""))
    return JsonResponse({"picks": picks_as_json(visit.shop, picks, language)})


# --- Feedback ----------------------------------------------------------------------------------------


@csrf_exempt  # the app proxy's signature stands in for a CSRF token
@require_POST
@storefront_view
def proxy_events(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    """POST /proxy/events {"visitor", "events": [{"type", "block", "product_id", "reason"?}]}:
    impressions, clicks, adds to cart and "not for me" from the blocks. 202 once stored; a bad
    event refuses the batch (400 naming it), nothing stored."""
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        stored = storefront_events_record(
            visit.shop,
            body.get("events"),
            visitor=str(body.get("visitor", "")),
            customer_id=visit.customer_id,
        )
    except EventError as error:
        return proxy_error(error.field, error.message)
    if visit.customer_id is not None:
        quiz_answers_join(visit.shop, str(body.get("visitor", "")), visit.customer_id)
    return JsonResponse({"stored": stored}, status=202)
