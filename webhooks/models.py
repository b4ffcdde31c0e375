"""Webhook events as rows."""

from django.db import models

from shop_app.tenancy import ShopOwned


class EventStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed (new, or waiting for its next retry)"
    PROCESSING = "processing", "Claimed by a worker"
    DONE = "done", "Processed"
    FAILED = "failed", "Failed; stays here until replayed"
    IGNORED = "ignored", "Recorded and acknowledged, nothing to do (see note)"


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
