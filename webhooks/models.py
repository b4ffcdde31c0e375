"""Webhook events as rows, and the log of privacy requests."""

from django.db import models

from shop_app.models import Shop
from shop_app.tenancy import ShopOwned


class EventStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed (new, or waiting for its next retry)"
    PROCESSING = "processing", "Claimed by a worker"
    DONE = "done", "Processed"
    FAILED = "failed", "Failed; stays here until replayed"
    IGNORED = "ignored", "Recorded and acknowledged, nothing to do (see note)"


# Statuses from which a row is still to be worked on; the partial index below covers them.
NOT_DONE_STATUSES = (EventStatus.PENDING, EventStatus.PROCESSING)


class WebhookEvent(ShopOwned):
    """One delivery of one Shopify event, stored before we answer Shopify.

    Unique on (shop, event_id): Shopify's X-Shopify-Event-Id is the same on every retry and on
    duplicate deliveries, so a second delivery finds the row and is a no-op.
    """

    topic = models.CharField(max_length=128)
    event_id = models.CharField(max_length=255)
    webhook_id = models.CharField(max_length=255, blank=True)
    api_version = models.CharField(max_length=32, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    # The raw body as received (decoded as UTF-8): parsed by the worker, never by intake, so that a
    # malformed body is still stored and fails visibly.
    body = models.TextField()
    received_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    note = models.CharField(max_length=255, blank=True)
    # When the row is next due: received_at at first, then the time of its scheduled retry. The
    # sweeper enqueues pending rows well past this time (the broker lost them, or was down).
    available_at = models.DateTimeField()
    # How many times the sweeper has sent the row again since a worker last claimed it. Each
    # re-send doubles the wait before the next (webhooks.processing.sweep_backoff), so a backlog
    # the workers are still getting through is not flooded with one more message per row a minute.
    sweeps = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "event_id"], name="webhook_event_unique_per_shop"),
        ]
        indexes = [
            # Read by webhooks.processing.webhook_events_sweep (beat, every minute): pending rows
            # whose time has come and processing rows whose worker died. Partial, so it stays as
            # small as the backlog however many events are done.
            models.Index(
                fields=["available_at"],
                name="webhook_event_not_done",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
            # Read by the admin list of failed events and by replay_webhooks.
            models.Index(
                fields=["shop", "received_at"],
                name="webhook_event_failed",
                condition=models.Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id} ({self.status})"


class PrivacyKind(models.TextChoices):
    DATA_REQUEST = "customers/data_request", "Shopper data request"
    CUSTOMER_REDACT = "customers/redact", "Shopper erasure"
    SHOP_REDACT = "shop/redact", "Shop erasure"


class PrivacyRequest(models.Model):
    """The record that a privacy request arrived and when it was carried out.

    Not ShopOwned on purpose: the record of a shop/redact must outlive the shop it erased, so the
    shop is nullable and its domain is kept. Read through `privacy_requests_for_shop(shop)`.
    It holds no personal data except the export of a data request, which a later erasure of the
    same shopper deletes.
    """

    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shop_domain = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=PrivacyKind.choices)
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    # The shopper concerned, by Shopify id while we may show it (data requests); erasures keep only
    # the keyed hash, which is also how an erasure finds earlier data requests of the same shopper.
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    customer_id_hash = models.CharField(max_length=64, blank=True)
    shopify_request_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    export = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "received_at"], name="privacy_request_by_shop")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.shop_domain} at {self.received_at.isoformat()}"
