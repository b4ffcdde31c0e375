"""Who must be forgotten and what was asked: suppressed shoppers and privacy requests."""

from django.db import models

from shop_app.models import Shop
from shop_app.tenancy import ShopOwned


class SuppressedShopper(ShopOwned):
    """A shopper whose personal data was erased (customers/redact). Only keyed hashes are kept, so a
    late webhook or a reconciliation pass can recognise the shopper and keep their personal data
    out, without us holding it."""

    customer_id_hash = models.CharField(max_length=64, blank=True)
    email_hash = models.CharField(max_length=64, blank=True)
    redacted_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One entry per shopper identity: two erasures of the same shopper at once (a
            # duplicate customers/redact) find one row, not two (see shopper_suppress).
            models.UniqueConstraint(
                fields=["shop", "customer_id_hash", "email_hash"], name="suppressed_shopper_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "customer_id_hash"], name="suppressed_by_customer"),
            models.Index(fields=["shop", "email_hash"], name="suppressed_by_email"),
        ]

    def __str__(self) -> str:
        return f"suppressed {self.customer_id_hash[:12]}"


class PrivacyKind(models.TextChoices):
    DATA_REQUEST = "customers/data_request", "A shopper asked for their data"
    CUSTOMER_REDACT = "customers/redact", "A shopper's data to be erased"
    SHOP_REDACT = "shop/redact", "The shop's data to be erased"


class PrivacyRequest(models.Model):
    """The record that a privacy request arrived and when it was carried out.

    Not ShopOwned on purpose: the record of a shop/redact must outlive the shop it erased, so the
    shop is nullable and its domain is kept. Read through privacy.requests.privacy_requests_for_shop.
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
