"""The shopper's door to their profile, through the app proxy (shop_app.proxy):

- `GET /proxy/profile`: what the shop believes about the signed-in shopper, what they told (each
  fact with where and when) and what their orders suggest (each part with what it came from);
- `POST /proxy/profile` with `{"facts": {...}, "consent": {"text", "version", "language"}}`:
  tell us more or correct us; `null` for a fact withdraws it. All or nothing: a bad value gets a
  400 naming the field, and nothing is stored.

Guests get 401: a profile belongs to a signed-in shopper.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from personalize.facts import ConsentGiven, FactError, consent_clean, facts_clean, facts_current, facts_record
from personalize.models import FactSource, Profile
from personalize.refresh import profile_refresh, profile_refresh_later
from shop_app.proxy import StorefrontVisit, storefront_view

BODY_MAX_BYTES = 16_384


def _error(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "message": message}}, status=status)


@csrf_exempt  # the app proxy's signature stands in for a CSRF token: only Shopify can sign
@require_http_methods(["GET", "POST"])
@storefront_view
def proxy_profile(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    if visit.customer_id is None:
        return _error("customer", "sign in to see and change your profile", status=401)
    if request.method == "POST":
        refused = _profile_tell(request, visit, visit.customer_id)
        if refused is not None:
            return refused
    return JsonResponse(profile_as_shopper_sees_it(visit, visit.customer_id))


def _profile_tell(request: HttpRequest, visit: StorefrontVisit, customer_id: int) -> HttpResponse | None:
    if len(request.body) > BODY_MAX_BYTES:
        return _error("body", f"must be at most {BODY_MAX_BYTES} bytes", status=413)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return _error("body", "must be a JSON object")
    if not isinstance(body, dict) or not set(body) <= {"facts", "consent"}:
        return _error("body", "must be an object with facts and consent")
    try:
        facts = facts_clean(visit.shop, body.get("facts"))
        consent = None
        if any(value is not None for value in facts.values()):
            text, version, language = consent_clean(body.get("consent"))
            consent = ConsentGiven(
                text=text,
                version=version,
                language=language,
                ip_address=_client_address(request),
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
        return _error(error.field, error.message)
    return None


def _client_address(request: HttpRequest) -> str:
    # Shopify's proxy forwards the shopper's address first in X-Forwarded-For.
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


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
