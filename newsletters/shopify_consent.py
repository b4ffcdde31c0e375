"""Shopify's email marketing consent, kept in step with our readers.

Out: after a confirmation we write SUBSCRIBED with CONFIRMED_OPT_IN (customerEmailMarketingConsent
Update); when a reader's last topic is left, UNSUBSCRIBED. A shop job per customer (one waits at a
time), which reads the state as it is when it runs, so that a burst of changes makes one write.

In: newsletters.subscriptions.shopify_consent_follow (Shopify tells every change back, our own
writes included).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from newsletters.models import Subscriber, Subscription, SubscriptionStatus
from shop_app.admin_api import AdminApiError, admin_client_for_shop
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop
from shop_app.work import PermanentError

logger = logging.getLogger(__name__)

CONSENT_WRITE_JOB = "newsletters.consent_write"

CONSENT_UPDATE_MUTATION = """
mutation NewsletterConsentUpdate($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt } }
    userErrors { field message code }
  }
}
"""

SUBSCRIBED = "SUBSCRIBED"
UNSUBSCRIBED = "UNSUBSCRIBED"
# Shopify's states (lower-case in our mirror, commerce.records.status_word) that end every topic.
LEAVING_STATES = ("unsubscribed", "redacted")


class ConsentWriteRefused(PermanentError):
    pass


def consent_write_later(shop: Shop, customer_id: int) -> None:
    """Queue the write, after the current transaction commits (job_enqueue)."""
    job_enqueue(shop, CONSENT_WRITE_JOB, key=str(customer_id), arguments={"customer_id": customer_id})


def consent_wanted(shop: Shop, customer_id: int) -> str:
    """SUBSCRIBED while the customer reads a confirmed topic, else UNSUBSCRIBED."""
    reading = (
        Subscription.objects.for_shop(shop)
        .filter(subscriber__customer_shopify_id=customer_id, status=SubscriptionStatus.CONFIRMED)
        .exists()
    )
    return SUBSCRIBED if reading else UNSUBSCRIBED


def consent_write_handler(job: Job) -> None:
    """Write what the customer's topics say now, if it differs from what we last wrote. The state
    and time are stored before the call (committed), so that Shopify's echo, which may be
    processed before the call returns, is known for ours."""
    shop = job.shop
    customer_id = int(job.arguments["customer_id"])
    wanted = consent_wanted(shop, customer_id)
    readers = Subscriber.objects.for_shop(shop).filter(customer_shopify_id=customer_id)
    written = set(readers.values_list("shopify_consent_state", flat=True))
    if written == {wanted} or (wanted == UNSUBSCRIBED and SUBSCRIBED not in written):
        # Already said; or never subscribed by us: leaving our topics is not leaving the shop's
        # other marketing, which is not ours to end.
        return
    at = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        readers.update(shopify_consent_state=wanted, shopify_consent_written_at=at)
    consent: dict[str, str] = {"marketingState": wanted, "consentUpdatedAt": at.isoformat()}
    if wanted == SUBSCRIBED:
        consent["marketingOptInLevel"] = "CONFIRMED_OPT_IN"
    try:
        data = admin_client_for_shop(shop).graphql(
            CONSENT_UPDATE_MUTATION,
            {
                "input": {
                    "customerId": f"gid://shopify/Customer/{customer_id}",
                    "emailMarketingConsent": consent,
                }
            },
        )
    except AdminApiError:
        # Not said after all: the retry writes again from what we hold then.
        readers.update(shopify_consent_state="", shopify_consent_written_at=None)
        raise
    errors = (data.get("customerEmailMarketingConsentUpdate") or {}).get("userErrors") or []
    if errors:
        readers.update(shopify_consent_state="", shopify_consent_written_at=None)
        raise ConsentWriteRefused(
            f"customerEmailMarketingConsentUpdate: {errors[0].get('code') or 'refused'}"
        )
