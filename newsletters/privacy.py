"""What newsletters holds on a shopper, for the privacy registry (privacy.registry): their reader
rows (address, language), consents, subscriptions and deliveries. An erasure deletes the reader
and with them everything that names them; the issues (the merchant's own text) stay."""

from typing import Any

from django.db import transaction
from django.db.models import Q

from newsletters.models import (
    Delivery,
    Issue,
    NewsletterConsent,
    NewsletterSettings,
    Subscriber,
    Subscription,
    Topic,
)
from privacy.registry import PrivacyProvider, ShopperRef
from shop_app.models import Shop


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _readers(shop: Shop, ref: ShopperRef) -> Any:
    match = Q(pk__in=[])
    if ref.customer_id:
        match |= Q(customer_shopify_id=ref.customer_id)
    if ref.email:
        match |= Q(email=ref.email)
    return Subscriber.objects.for_shop(shop).filter(match)


def newsletters_export_shopper(shop: Shop, ref: ShopperRef) -> dict[str, Any]:
    readers = []
    for subscriber in _readers(shop, ref).order_by("pk"):
        readers.append(
            {
                "email": subscriber.email,
                "language": subscriber.language,
                "suppressed_at": _iso(subscriber.suppressed_at),
                "suppressed_reason": subscriber.suppressed_reason,
                "consents": [
                    {
                        "method": consent.method,
                        "text": consent.text,
                        "version": consent.version,
                        "language": consent.language,
                        "given_at": _iso(consent.given_at),
                        "confirmed_at": _iso(consent.confirmed_at),
                    }
                    for consent in NewsletterConsent.objects.for_shop(shop)
                    .filter(subscriber=subscriber)
                    .order_by("pk")
                ],
                "subscriptions": [
                    {
                        "topic": subscription.topic.handle,
                        "cadence": subscription.cadence,
                        "status": subscription.status,
                        "paused_until": _iso(subscription.paused_until),
                        "confirmed_at": _iso(subscription.confirmed_at),
                        "unsubscribed_at": _iso(subscription.unsubscribed_at),
                    }
                    for subscription in Subscription.objects.for_shop(shop)
                    .filter(subscriber=subscriber)
                    .select_related("topic")
                    .order_by("pk")
                ],
                "emails": [
                    {
                        "kind": delivery.kind,
                        "topic": delivery.issue.topic.handle if delivery.issue else None,
                        "period": delivery.issue.period if delivery.issue else None,
                        "status": delivery.status,
                        "sent_at": _iso(delivery.processed_at),
                        "clicked_at": _iso(delivery.clicked_at),
                    }
                    for delivery in Delivery.objects.for_shop(shop)
                    .filter(subscriber=subscriber)
                    .select_related("issue__topic")
                    .order_by("pk")
                ],
            }
        )
    return {"readers": readers}


def newsletters_erase_shopper(shop: Shop, ref: ShopperRef) -> dict[str, int]:
    with transaction.atomic():
        readers = _readers(shop, ref)
        counts = {
            "deliveries": Delivery.objects.for_shop(shop).filter(subscriber__in=readers).count(),
            "subscriptions": Subscription.objects.for_shop(shop).filter(subscriber__in=readers).count(),
        }
        # Cascades to consents, subscriptions and deliveries.
        counts["readers"] = readers.delete()[1].get("newsletters.Subscriber", 0)
    return counts


def newsletters_erase_shop(shop: Shop) -> dict[str, int]:
    with transaction.atomic():
        counts = {"deliveries": Delivery.objects.for_shop(shop).delete()[0]}
        counts["readers"] = Subscriber.objects.for_shop(shop).delete()[0]
        counts["issues"] = Issue.objects.for_shop(shop).delete()[0]
        counts["topics"] = Topic.objects.for_shop(shop).delete()[0]
        NewsletterSettings.objects.for_shop(shop).delete()
    return counts


NEWSLETTERS_PRIVACY_PROVIDER = PrivacyProvider(
    name="newsletters",
    export_shopper=newsletters_export_shopper,
    erase_shopper=newsletters_erase_shopper,
    erase_shop=newsletters_erase_shop,
)
