"""The shopper's door to newsletters, through the app proxy (shop_app.proxy):

- `GET /proxy/newsletters/topics?locale=`: the shop's topics, each with its name and description
  in the shopper's language and the cadences offered; a signed-in shopper's own choices too.
- `POST /proxy/newsletters/subscriptions` with `{"email" (guests only), "topics": [{"id",
  "cadence"}], "consent": {"text", "version", "language"?}}`: 202 once stored, and the
  confirmation email is on its way (double opt-in). A bad value gets a 400 naming the field
  (`{"error": {"field", "message"}}`), and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from newsletters.content import cadence_word, reader_language
from newsletters.models import Subscriber
from newsletters.subscriptions import (
    Requester,
    SubscriptionError,
    consent_given_clean,
    customer_email,
    email_clean,
    subscription_request,
    subscriptions_for,
    topic_choices_clean,
    topics_active,
)
from personalize.reasons import storefront_language
from shop_app.proxy import StorefrontVisit, client_address, proxy_error, proxy_json_body, storefront_view


@require_GET
@storefront_view
def proxy_topics(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    language = storefront_language(request.GET.get("locale", ""), request.headers.get("Accept-Language", ""))
    chosen: dict[int, dict[str, Any]] = {}
    if visit.customer_id is not None:
        subscriber = (
            Subscriber.objects.for_shop(visit.shop).filter(customer_shopify_id=visit.customer_id).first()
        )
        if subscriber is not None:
            chosen = {
                topic_id: {"cadence": subscription.cadence, "status": subscription.status}
                for topic_id, subscription in subscriptions_for(subscriber).items()
            }
    return JsonResponse(
        {
            "signed_in": visit.customer_id is not None,
            "topics": [
                {
                    "id": topic.pk,
                    "handle": topic.handle,
                    "name": topic.in_language("names", language),
                    "description": topic.in_language("descriptions", language),
                    "cadences": [
                        {"value": cadence, "label": _cadence_word(cadence, language)}
                        for cadence in topic.cadences
                    ],
                    "season": (
                        {"from_month": topic.season_start_month, "to_month": topic.season_end_month}
                        if topic.season_start_month
                        else None
                    ),
                    "subscription": chosen.get(topic.pk),
                }
                for topic in topics_active(visit.shop)
            ],
        }
    )


def _cadence_word(cadence: str, language: str) -> str:
    with translation.override(reader_language(language)):
        return cadence_word(cadence)


@csrf_exempt  # the app proxy's signature stands in for a CSRF token: only Shopify can sign
@require_POST
@storefront_view
def proxy_subscriptions(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    unknown = set(body) - {"email", "topics", "consent"}
    if unknown:
        return proxy_error(sorted(unknown)[0][:64], "is not a field of a subscription")
    try:
        if visit.customer_id is not None:
            if "email" in body:
                raise SubscriptionError(
                    "email", "is your account's address when you are signed in: leave it out"
                )
            email = customer_email(visit.shop, visit.customer_id)
            if not email:
                raise SubscriptionError("customer", "your account has no email address")
        else:
            email = email_clean(body.get("email"))
        choices = topic_choices_clean(visit.shop, body.get("topics"))
        consent = consent_given_clean(body.get("consent"))
    except SubscriptionError as error:
        return proxy_error(error.field, error.message)
    subscription_request(
        visit.shop,
        customer_id=visit.customer_id,
        email=email,
        choices=choices,
        consent=consent,
        requester=Requester(client_address(request), request.headers.get("User-Agent", "")[:512]),
    )
    # The same answer whether the address was new, waiting or already reading: nothing to learn
    # about someone else's address here.
    return JsonResponse({"status": "confirmation_sent"}, status=202)
