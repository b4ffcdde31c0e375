"""Newsletters: the shop's topics, who reads which at what cadence and under which consent, the
issues sent, and one delivery row per reader and email (the background-work piece's rows).

A reader (Subscriber) is an email address of one shop, linked to the shop's customer when signed
in (or once confirmed, if the address is a customer's). Each of their topics is a Subscription with
its own cadence, pause and status. Personal data sits on Subscriber and NewsletterConsent only;
the rest points at them, so an erasure deletes a reader with everything that names them.
"""

from django.db import models

from shop_app.models import QueuedWork
from shop_app.tenancy import ShopOwned


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class NewsletterSettings(ShopOwned):
    """Who sends, from where: the footer Japanese (特定電子メール法) and US (CAN-SPAM) law require
    on every marketing email. No issue is sent for a shop without a postal address."""

    sender_name = models.CharField(max_length=255, blank=True)
    from_email = models.EmailField(blank=True)
    postal_address = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    # The local hour issues go out, in the shop's time zone.
    send_hour = models.PositiveSmallIntegerField(default=9)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="newsletter_settings_one_per_shop")]


class Topic(ShopOwned):
    """What a newsletter is about. Names, descriptions and sections hold one text per language
    ({"en": ..., "ja": ...}); a reader gets their language, else English."""

    handle = models.SlugField(max_length=64)
    names = models.JSONField(default=dict)
    descriptions = models.JSONField(default=dict)
    cadences = models.JSONField(default=list)  # of Cadence values, in the order offered
    # A season that comes round each year, by month (March to April: 3, 4; December: 12, 12;
    # November to February wraps: 11, 2). Null: all year.
    season_start_month = models.PositiveSmallIntegerField(null=True, blank=True)
    season_end_month = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the next issue says: [{"heading": {lang: text}, "body": {lang: text}}], written by the
    # merchant; each issue keeps a copy as it was sent.
    sections = models.JSONField(default=list)
    # Product picks, per reader, only among these collections (handles) or tags; none: no picks.
    collection_handles = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    picks_count = models.PositiveSmallIntegerField(default=3)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "handle"], name="topic_handle_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.handle

    def in_language(self, field: str, language: str) -> str:
        texts = getattr(self, field) or {}
        return str(texts.get(language) or texts.get("en") or "")


class Subscriber(ShopOwned):
    """One reader: an email address of one shop."""

    email = models.CharField(max_length=320)  # normalized (privacy.identifiers.email_normalize)
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    language = models.CharField(max_length=8, default="en")
    # Bumped to revoke every link sent so far (an erasure, a token leaked).
    token_version = models.PositiveIntegerField(default=1)
    # Bounces, complaints, Shopify's UNSUBSCRIBED or REDACTED: nothing more is sent.
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=32, blank=True)
    # What we last wrote to Shopify's email marketing consent, and the consentUpdatedAt we sent:
    # an incoming change is ours echoed back unless it is newer than this.
    shopify_consent_state = models.CharField(max_length=32, blank=True)
    shopify_consent_written_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="subscriber_email_unique_per_shop"),
        ]
        indexes = [models.Index(fields=["shop", "customer_shopify_id"], name="subscriber_by_customer")]

    def __str__(self) -> str:
        return f"subscriber {self.pk}"


class ConsentMethod(models.TextChoices):
    SIGNED_IN = "storefront_signed_in", "On the storefront, signed in"
    EMAIL = "storefront_email", "On the storefront, by email"
    PREFERENCE_CENTER = "preference_center", "In the preference center"


class NewsletterConsent(ShopOwned):
    """The consent a reader gave: when, how, the exact text shown, its language, hashed IP and
    user agent; and when they confirmed it (double opt-in)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consents")
    method = models.CharField(max_length=32, choices=ConsentMethod.choices)
    text = models.TextField()
    version = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent_hash = models.CharField(max_length=64, blank=True)
    given_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the reader's confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Left"


class Subscription(ShopOwned):
    """A reader's topic: at which cadence, paused until when, and in which state."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="subscriptions")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    cadence = models.CharField(max_length=16, choices=Cadence.choices)
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices)
    paused_until = models.DateField(null=True, blank=True)
    consent = models.ForeignKey(NewsletterConsent, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # Who ended it: the reader (preference center, one-click), Shopify's consent, a bounce...
    unsubscribed_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "topic"], name="subscription_unique_per_topic"),
        ]
        indexes = [
            # Read by newsletters.sending when it lists an issue's readers.
            models.Index(
                fields=["topic", "cadence", "subscriber"],
                name="subscription_confirmed",
                condition=models.Q(status="confirmed"),
            ),
        ]


class Issue(ShopOwned):
    """One issue of a topic for one period of one cadence: created once (the constraint), with the
    sections as they were when it went out."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="issues")
    cadence = models.CharField(max_length=16, choices=Cadence.choices)
    # "monthly:2026-05-01": the cadence and the first day of the period, in the shop's time zone.
    period = models.CharField(max_length=32)
    period_start = models.DateField()
    sections = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last subscription whose delivery is created: deliveries are created in chunks after it.
    deliveries_cursor = models.BigIntegerField(default=0)
    deliveries_created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "period"], name="issue_once_per_topic_and_period"),
        ]


class DeliveryKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation request"
    ISSUE = "issue", "Issue"


class Delivery(ShopOwned, QueuedWork):
    """One email to one reader, claimed by a worker (shop_app.work). `handed_off_at` is stored,
    committed, before the message goes to SMTP: a worker that dies after it leaves a row that is
    never sent again (at most once; its note says it may have gone)."""

    kind = models.CharField(max_length=16, choices=DeliveryKind.choices)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    issue = models.ForeignKey(
        Issue, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set, and committed, just before the message goes to SMTP; `processed_at` of a done row is
    # when SMTP took it.
    handed_off_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"],
                condition=models.Q(kind="issue"),
                name="delivery_once_per_issue_and_reader",
            ),
        ]
        indexes = [
            # Read by shop_app.work.work_sweep for deliveries (beat, every minute) and by the
            # workers taking an issue's ready rows together; partial, as small as the backlog.
            models.Index(
                fields=["available_at"],
                name="delivery_not_done",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
            models.Index(fields=["shop", "issue", "status"], name="delivery_by_issue"),
        ]
