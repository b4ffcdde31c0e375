"""Who reads what: signing up (double opt-in), confirming, the preference center's changes, leaving
one topic or all, and suppression.

Every change that ends with a reader's confirmed topics different tells the two places that keep
them besides us, after commit: personalize (a confirmed topic is a fact the shopper told us) and
Shopify's email marketing consent (newsletters.shopify_consent).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from commerce.models import Customer
from newsletters.deliveries import delivery_enqueue_on_commit
from newsletters.models import (
    ConsentMethod,
    Delivery,
    DeliveryKind,
    NewsletterConsent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Topic,
)
from newsletters.shopify_consent import LEAVING_STATES, UNSUBSCRIBED, consent_write_later
from personalize.facts import ConsentGiven, FactError, consent_clean, facts_record
from personalize.models import Fact, FactSource
from privacy.identifiers import email_normalize
from privacy.suppression import privacy_hash
from shop_app.errors import FieldError
from shop_app.models import Shop

logger = logging.getLogger(__name__)

TOPICS_MAX = 20
# One confirmation email per address at most this often: a form cannot be used to flood someone.
CONFIRMATION_MIN_INTERVAL = timedelta(minutes=5)
PAUSE_DAYS_MAX = 366


class SubscriptionError(FieldError):
    """Input refused: `field` names where, never the value."""


@dataclass(frozen=True)
class TopicChoice:
    topic: Topic
    cadence: str


@dataclass(frozen=True)
class Requester:
    """Where a consent came from, hashed on storing."""

    ip_address: str = ""
    user_agent: str = ""


def topics_active(shop: Shop) -> list[Topic]:
    return list(Topic.objects.for_shop(shop).filter(active=True).order_by("position", "pk"))


def topic_choices_clean(shop: Shop, data: Any) -> list[TopicChoice]:
    """`[{"id", "cadence"}]`: each an active topic of the shop, once, at a cadence it offers."""
    if not isinstance(data, list) or not data or len(data) > TOPICS_MAX:
        raise SubscriptionError("topics", f"must be a list of 1 to {TOPICS_MAX} topics")
    topics = {topic.pk: topic for topic in topics_active(shop)}
    choices: dict[int, TopicChoice] = {}
    for index, item in enumerate(data):
        field = f"topics[{index}]"
        if not isinstance(item, Mapping) or not set(item) <= {"id", "cadence"}:
            raise SubscriptionError(field, "must be an object with id and cadence")
        topic_id = item.get("id")
        if not isinstance(topic_id, int) or isinstance(topic_id, bool) or topic_id not in topics:
            raise SubscriptionError(f"{field}.id", "is not a topic of this shop")
        if topic_id in choices:
            raise SubscriptionError(f"{field}.id", "is chosen twice")
        topic = topics[topic_id]
        cadence = item.get("cadence")
        if cadence not in topic.cadences:
            raise SubscriptionError(f"{field}.cadence", f"must be one of {', '.join(topic.cadences)}")
        choices[topic_id] = TopicChoice(topic, str(cadence))
    return list(choices.values())


def email_clean(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 320:
        raise SubscriptionError("email", "must be an email address")
    email = email_normalize(value)
    try:
        validate_email(email)
    except ValidationError as error:
        raise SubscriptionError("email", "must be an email address") from error
    return email


def consent_given_clean(data: Any) -> tuple[str, str, str]:
    try:
        return consent_clean(data)
    except FactError as error:
        raise SubscriptionError(error.field, error.message) from error


def customer_email(shop: Shop, customer_id: int) -> str:
    return (
        Customer.objects.for_shop(shop)
        .filter(shopify_id=customer_id, deleted_at__isnull=True)
        .values_list("email", flat=True)
        .first()
        or ""
    )


def subscriber_get_for_shop(shop: Shop, subscriber_id: int) -> Subscriber:
    return Subscriber.objects.for_shop(shop).get(pk=subscriber_id)


# --- Signing up ----------------------------------------------------------------------------------


def subscription_request(
    shop: Shop,
    *,
    customer_id: int | None,
    email: str,
    choices: Sequence[TopicChoice],
    consent: tuple[str, str, str],
    requester: Requester,
    now: datetime | None = None,
) -> Subscriber:
    """A shopper asks for topics: their subscriptions wait for confirmation (a topic they already
    read only changes cadence) and a confirmation email is queued, unless one went out moments
    ago. Returns the reader."""
    now = now or timezone.now()
    text, version, language = consent
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.get_or_create(
            shop=shop, email=email, defaults={"customer_shopify_id": customer_id, "language": language}
        )
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if customer_id is not None and subscriber.customer_shopify_id != customer_id:
            subscriber.customer_shopify_id = customer_id
        subscriber.language = language
        subscriber.save(update_fields=["customer_shopify_id", "language"])
        record = NewsletterConsent.objects.create(
            shop=shop,
            subscriber=subscriber,
            method=ConsentMethod.SIGNED_IN if customer_id is not None else ConsentMethod.EMAIL,
            text=text,
            version=version,
            language=language,
            ip_hash=privacy_hash(shop, "ip", requester.ip_address) if requester.ip_address else "",
            user_agent_hash=privacy_hash(shop, "user-agent", requester.user_agent)
            if requester.user_agent
            else "",
            given_at=now,
        )
        held = {
            subscription.topic_id: subscription
            for subscription in Subscription.objects.for_shop(shop).filter(subscriber=subscriber)
        }
        waiting = False
        for choice in choices:
            subscription = held.get(choice.topic.pk)
            if subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED:
                if subscription.cadence != choice.cadence:
                    subscription.cadence = choice.cadence
                    subscription.save(update_fields=["cadence"])
                continue
            waiting = True
            Subscription.objects.update_or_create(
                shop=shop,
                subscriber=subscriber,
                topic=choice.topic,
                defaults={
                    "cadence": choice.cadence,
                    "status": SubscriptionStatus.PENDING,
                    "consent": record,
                    "paused_until": None,
                },
            )
        if waiting and not _confirmation_sent_lately(shop, subscriber, now):
            delivery = Delivery.objects.create(
                shop=shop, kind=DeliveryKind.CONFIRMATION, subscriber=subscriber, available_at=now
            )
            delivery_enqueue_on_commit(delivery.pk)
    return subscriber


def _confirmation_sent_lately(shop: Shop, subscriber: Subscriber, now: datetime) -> bool:
    return (
        Delivery.objects.for_shop(shop)
        .filter(
            subscriber=subscriber,
            kind=DeliveryKind.CONFIRMATION,
            created_at__gte=now - CONFIRMATION_MIN_INTERVAL,
        )
        .exists()
    )


def subscriptions_pending(subscriber: Subscriber) -> list[Subscription]:
    return list(
        Subscription.objects.for_shop(subscriber.shop)
        .filter(subscriber=subscriber, status=SubscriptionStatus.PENDING)
        .select_related("topic")
        .order_by("topic__position", "topic_id")
    )


def subscriptions_confirm(subscriber: Subscriber, now: datetime | None = None) -> list[Subscription]:
    """The reader followed the confirmation link and pressed the button: their waiting topics are
    confirmed (double opt-in) and their consent records say when. Returns what was confirmed."""
    now = now or timezone.now()
    shop = subscriber.shop
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().select_related("shop").get(pk=subscriber.pk)
        pending = subscriptions_pending(subscriber)
        if not pending:
            return []
        Subscription.objects.for_shop(shop).filter(pk__in=[s.pk for s in pending]).update(
            status=SubscriptionStatus.CONFIRMED,
            confirmed_at=now,
            unsubscribed_at=None,
            unsubscribed_reason="",
        )
        NewsletterConsent.objects.for_shop(shop).filter(
            pk__in={s.consent_id for s in pending if s.consent_id}, confirmed_at__isnull=True
        ).update(confirmed_at=now)
        if subscriber.customer_shopify_id is None:
            # The address is proven now: if it is a customer's, their picks can follow their orders.
            subscriber.customer_shopify_id = (
                Customer.objects.for_shop(shop)
                .filter(email=subscriber.email, deleted_at__isnull=True)
                .values_list("shopify_id", flat=True)
                .first()
            )
        subscriber.suppressed_at = None
        subscriber.suppressed_reason = ""
        subscriber.save(update_fields=["customer_shopify_id", "suppressed_at", "suppressed_reason"])
        _topics_changed(subscriber, consent=pending[-1].consent, now=now)
    return pending


# --- The preference center -----------------------------------------------------------------------


@dataclass(frozen=True)
class TopicPreference:
    """What the preference center's form says of one shown topic."""

    topic_id: int
    subscribed: bool
    cadence: str = ""
    pause_days: int = 0


def preferences_save(
    subscriber: Subscriber,
    shown: Sequence[TopicPreference],
    consent: tuple[str, str, str],
    requester: Requester,
    now: datetime | None = None,
) -> None:
    """Save the preference center: only the topics it showed change. A topic added here is
    confirmed at once (the link proves the address) under the consent the page showed; a topic
    unticked is left; cadence and pause are set per topic."""
    now = now or timezone.now()
    shop = subscriber.shop
    topics = {topic.pk: topic for topic in topics_active(shop)}
    for index, preference in enumerate(shown):
        topic = topics.get(preference.topic_id)
        if topic is None:
            raise SubscriptionError(f"topics[{index}].id", "is not a topic of this shop")
        if preference.subscribed and preference.cadence not in topic.cadences:
            raise SubscriptionError(f"topics[{index}].cadence", f"must be one of {', '.join(topic.cadences)}")
        if not 0 <= preference.pause_days <= PAUSE_DAYS_MAX:
            raise SubscriptionError(f"topics[{index}].pause", f"must be 0 to {PAUSE_DAYS_MAX} days")
    text, version, language = consent
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().select_related("shop").get(pk=subscriber.pk)
        held = {s.topic_id: s for s in Subscription.objects.for_shop(shop).filter(subscriber=subscriber)}
        record: NewsletterConsent | None = None
        changed = False
        for preference in shown:
            subscription = held.get(preference.topic_id)
            reading = subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED
            if not preference.subscribed:
                if subscription is not None and subscription.status != SubscriptionStatus.UNSUBSCRIBED:
                    _leave(subscription, "reader", now)
                    changed = True
                continue
            paused_until = (
                now.date() + timedelta(days=preference.pause_days) if preference.pause_days else None
            )
            if reading and subscription is not None:
                subscription.cadence = preference.cadence
                subscription.paused_until = paused_until
                subscription.save(update_fields=["cadence", "paused_until"])
                continue
            if record is None:
                record = NewsletterConsent.objects.create(
                    shop=shop,
                    subscriber=subscriber,
                    method=ConsentMethod.PREFERENCE_CENTER,
                    text=text,
                    version=version,
                    language=language,
                    ip_hash=privacy_hash(shop, "ip", requester.ip_address) if requester.ip_address else "",
                    user_agent_hash=privacy_hash(shop, "user-agent", requester.user_agent)
                    if requester.user_agent
                    else "",
                    given_at=now,
                    confirmed_at=now,
                )
            Subscription.objects.update_or_create(
                shop=shop,
                subscriber=subscriber,
                topic_id=preference.topic_id,
                defaults={
                    "cadence": preference.cadence,
                    "status": SubscriptionStatus.CONFIRMED,
                    "consent": record,
                    "confirmed_at": now,
                    "paused_until": paused_until,
                    "unsubscribed_at": None,
                    "unsubscribed_reason": "",
                },
            )
            changed = True
        if changed:
            _topics_changed(subscriber, consent=record, now=now)


def subscription_leave(
    subscriber: Subscriber, topic_id: int, reason: str, now: datetime | None = None
) -> bool:
    """Leave one topic (one-click unsubscribe, the preference center). Whether anything changed."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = (
            Subscription.objects.for_shop(subscriber.shop)
            .select_for_update()
            .filter(subscriber=subscriber, topic_id=topic_id)
            .exclude(status=SubscriptionStatus.UNSUBSCRIBED)
            .first()
        )
        if subscription is None:
            return False
        _leave(subscription, reason, now)
        _topics_changed(subscriber, consent=None, now=now)
    return True


def subscriber_leave_all(subscriber: Subscriber, reason: str, now: datetime | None = None) -> int:
    """Leave every topic. Returns how many were left."""
    now = now or timezone.now()
    with transaction.atomic():
        left = (
            Subscription.objects.for_shop(subscriber.shop)
            .filter(subscriber=subscriber)
            .exclude(status=SubscriptionStatus.UNSUBSCRIBED)
            .update(status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=now, unsubscribed_reason=reason)
        )
        if left:
            _topics_changed(subscriber, consent=None, now=now)
    return left


def subscriber_suppress(subscriber: Subscriber, reason: str, now: datetime | None = None) -> None:
    """Send this address nothing more: a hard bounce, a complaint, Shopify's UNSUBSCRIBED or
    REDACTED. Every topic is left with that reason."""
    now = now or timezone.now()
    with transaction.atomic():
        Subscriber.objects.for_shop(subscriber.shop).filter(pk=subscriber.pk).update(
            suppressed_at=now, suppressed_reason=reason
        )
        subscriber_leave_all(subscriber, reason, now)


def _leave(subscription: Subscription, reason: str, now: datetime) -> None:
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    subscription.unsubscribed_at = now
    subscription.unsubscribed_reason = reason
    subscription.save(update_fields=["status", "unsubscribed_at", "unsubscribed_reason"])


def _topics_changed(subscriber: Subscriber, *, consent: NewsletterConsent | None, now: datetime) -> None:
    """After commit: the shopper's confirmed topics become (or stop being) a fact they told us, and
    Shopify's consent follows (SUBSCRIBED after a confirmation, UNSUBSCRIBED once none is left)."""
    customer_id = subscriber.customer_shopify_id
    if customer_id is None:
        return
    shop = subscriber.shop
    handles = list(
        Subscription.objects.for_shop(shop)
        .filter(subscriber=subscriber, status=SubscriptionStatus.CONFIRMED)
        .order_by("topic__position", "topic_id")
        .values_list("topic__handle", flat=True)
    )
    given = (
        ConsentGiven(text=consent.text, version=consent.version, language=consent.language)
        if consent is not None
        else _latest_consent(subscriber)
    )
    if given is not None or not handles:
        facts_record(
            shop,
            customer_id,
            {Fact.Name.TOPICS: handles or None},
            source=FactSource.NEWSLETTER,
            consent=given if handles else None,
            now=now,
        )
    consent_write_later(shop, customer_id)


def _latest_consent(subscriber: Subscriber) -> ConsentGiven | None:
    latest = (
        NewsletterConsent.objects.for_shop(subscriber.shop)
        .filter(subscriber=subscriber, confirmed_at__isnull=False)
        .order_by("-confirmed_at", "-pk")
        .first()
    )
    if latest is None:
        return None
    return ConsentGiven(text=latest.text, version=latest.version, language=latest.language)


def subscriptions_for(subscriber: Subscriber) -> dict[int, Subscription]:
    """The reader's subscriptions by topic id."""
    return {
        subscription.topic_id: subscription
        for subscription in Subscription.objects.for_shop(subscriber.shop).filter(subscriber=subscriber)
    }


def is_paused(subscription: Subscription, day: date) -> bool:
    return subscription.paused_until is not None and subscription.paused_until > day


# --- Shopify's consent, told back ----------------------------------------------------------------


def shopify_consent_follow(shop: Shop, customer_id: int) -> int:
    """Shopify's consent for the customer changed (our mirror holds it now; customers/update and
    customers_email_marketing_consent/update tell every change, our own writes included). An
    UNSUBSCRIBED or REDACTED newer than what we last wrote means the shopper left through Shopify
    (the merchant, another app, Shopify's own link): every topic is left. Our own write, told
    back, is not newer than what we recorded before writing it. Returns how many readers left."""
    customer = (
        Customer.objects.for_shop(shop)
        .filter(shopify_id=customer_id)
        .values("email_marketing_state", "email_consent_updated_at")
        .first()
    )
    if customer is None or customer["email_marketing_state"].lower() not in LEAVING_STATES:
        return 0
    changed_at: datetime | None = customer["email_consent_updated_at"]
    left = 0
    for subscriber in (
        Subscriber.objects.for_shop(shop).filter(customer_shopify_id=customer_id).select_related("shop")
    ):
        ours = subscriber.shopify_consent_written_at
        if ours is not None and (changed_at is None or changed_at <= ours):
            continue  # ours, told back, or older than what we wrote since
        if subscriber.suppressed_at is not None:
            continue
        logger.info("newsletters: Shopify's consent ended every topic of reader %s", subscriber.pk)
        with transaction.atomic():
            # Shopify's state is now ours too: the consent job that leaving queues writes nothing.
            Subscriber.objects.for_shop(shop).filter(pk=subscriber.pk).update(
                shopify_consent_state=UNSUBSCRIBED, shopify_consent_written_at=changed_at
            )
            subscriber_suppress(subscriber, "shopify")
        left += 1
    return left
