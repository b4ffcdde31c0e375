"""Webhook events as rows."""

from django.db import models

from shop_app.models import QueuedWork, WorkStatus
from shop_app.tenancy import ShopOwned

# The statuses of every kind of background work (shop_app.work), under the name this app uses.
EventStatus = WorkStatus


class WebhookEvent(ShopOwned, QueuedWork):
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
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "event_id"], name="webhook_event_unique_per_shop"),
        ]
        indexes = [
            # Read by shop_app.work.work_sweep for webhooks (beat, every minute): pending rows
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
