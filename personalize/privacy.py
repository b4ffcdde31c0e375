"""What personalize holds on a shopper, for the privacy registry (privacy.registry): the facts they
told us with the consent records they gave, their profile, the products they said were not for
them, their precomputed recommendations and what the web pixel saw them browse (with the events
of the browsers they signed in on). An erasure deletes them all, and their quiz answers: a consent
record proves consent for facts that no longer exist. Their events on the blocks stay, naming no
one, for the shop's figures."""

from typing import Any

from django.db import transaction
from django.db.models import Q

from personalize.models import (
    BrowsingEvent,
    CandidateList,
    ConsentRecord,
    Dismissal,
    Fact,
    PixelSettings,
    Profile,
    ProfileRun,
    ProfileSettings,
    Quiz,
    QuizAnswer,
    RecommendationSettings,
    ServedPicks,
    ShopProfileModel,
    StorefrontEvent,
)
from personalize.served import served_forget
from privacy.registry import PrivacyProvider, ShopperRef
from shop_app.models import Shop


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def personalize_export_shopper(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    if not ref.customer_id:
        return {"facts": [], "profile": None, "not_for_me": [], "browsing": []}
    facts = (
        Fact.objects.for_shop(shop)
        .filter(customer_shopify_id=ref.customer_id)
        .select_related("consent")
        .order_by("stated_at", "pk")
    )
    profile = Profile.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).first()
    return {
        "facts": [
            {
                "name": fact.name,
                "value": fact.value,
                "withdrawn": fact.withdrawn,
                "source": fact.source,
                "stated_at": _iso(fact.stated_at),
                "consent": (
                    {
                        "text": fact.consent.text,
                        "version": fact.consent.version,
                        "language": fact.consent.language,
                        "given_at": _iso(fact.consent.given_at),
                    }
                    if fact.consent
                    else None
                ),
            }
            for fact in facts
        ],
        "profile": (
            {
                "segment": profile.segment,
                "order_count": profile.order_count,
                "total_spent": {"amount": str(profile.total_spent), "currency": profile.currency},
                "predicted_orders_365d": profile.predicted_orders_365d,
                "predicted_value_365d": str(profile.predicted_value_365d),
                "churn_risk": profile.churn_risk,
                "affinities": profile.affinities,
                "sizes": profile.sizes,
                "price_band": profile.price_band,
                "country_code": profile.country_code,
                "region_code": profile.region_code,
                "climate_band": profile.climate_band,
                "as_of": _iso(profile.as_of),
            }
            if profile
            else None
        ),
        "not_for_me": [
            {"product_id": product_id, "at": _iso(at)}
            for product_id, at in Dismissal.objects.for_shop(shop)
            .filter(customer_shopify_id=ref.customer_id)
            .order_by("dismissed_at")
            .values_list("product_shopify_id", "dismissed_at")
        ],
        "browsing": [
            {
                "kind": event.kind,
                "product_id": event.product_shopify_id,
                "collection_id": event.collection_shopify_id,
                "query": event.query,
                "at": _iso(event.at),
            }
            for event in _browsing_of(shop, ref.customer_id).order_by("at", "pk")
        ],
    }


def _browsing_of(shop: Shop, customer_id: int) -> Any:
    """The customer's browsing events and those of every browser they were seen signed in on."""
    clients = (
        BrowsingEvent.objects.for_shop(shop)
        .filter(customer_shopify_id=customer_id)
        .values_list("client_id", flat=True)
        .distinct()
    )
    return BrowsingEvent.objects.for_shop(shop).filter(
        Q(customer_shopify_id=customer_id) | Q(client_id__in=list(clients), customer_shopify_id__isnull=True)
    )


def personalize_erase_shopper(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    if not ref.customer_id:
        return {}
    with transaction.atomic():
        facts, _ = Fact.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).delete()
        consents, _ = (
            ConsentRecord.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).delete()
        )
        profiles, _ = Profile.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).delete()
        dismissals, _ = Dismissal.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).delete()
        lists, _ = CandidateList.objects.for_shop(shop).filter(audience=f"shopper:{ref.customer_id}").delete()
        kept_blocks = served_forget(shop, [ref.customer_id])
        browsing, _ = _browsing_of(shop, ref.customer_id).delete()
        quiz_answers, _ = (
            QuizAnswer.objects.for_shop(shop).filter(customer_shopify_id=ref.customer_id).delete()
        )
        # The blocks' events stay for the shop's figures (clicks attribute orders), naming no one.
        block_events = (
            StorefrontEvent.objects.for_shop(shop)
            .filter(customer_shopify_id=ref.customer_id)
            .update(customer_shopify_id=None, visitor="")
        )
    return {
        "facts": facts,
        "consent_records": consents,
        "profiles": profiles,
        "not_for_me": dismissals,
        "recommendations": lists,
        "kept_blocks": kept_blocks,
        "browsing": browsing,
        "quiz_answers": quiz_answers,
        "block_events_anonymized": block_events,
    }


def personalize_erase_shop(shop: Shop) -> dict[str, int]:
    counts = {}
    with transaction.atomic():
        # Facts first: they point at the consent records they were given under.
        for model in (
            Fact,
            ConsentRecord,
            Profile,
            ProfileRun,
            ShopProfileModel,
            ProfileSettings,
            Dismissal,
            CandidateList,
            ServedPicks,
            RecommendationSettings,
            BrowsingEvent,
            PixelSettings,
            QuizAnswer,
            Quiz,
            StorefrontEvent,
        ):
            counts[model._meta.model_name or model.__name__], _ = model.objects.for_shop(shop).delete()
    return counts


PERSONALIZE_PRIVACY_PROVIDER = PrivacyProvider(
    name="personalize",
    export_shopper=personalize_export_shopper,
    erase_shopper=personalize_erase_shopper,
    erase_shop=personalize_erase_shop,
)
