"""Orders, customers, refunds, consent and stock as we keep them: the shop's Shopify data, normalized.

Every row belongs to a shop (ShopOwned) and is keyed by its Shopify id, an integer, unique per shop.
Shopify's own `updated_at` is kept beside each row so that a late or repeated delivery never
overwrites newer state (see personalize/ingest.py).
"""

from django.db import models

from shop_app.tenancy import ShopOwned


class Customer(ShopOwned):
    """A shopper as Shopify knows them. Personal fields are blanked by a redaction."""

    shopify_id = models.BigIntegerField()
    email = models.CharField(max_length=320, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    tags = models.TextField(blank=True)
    # The default address: city and postcode are personal; country and region also feed climate
    # and hemisphere decisions.
    city = models.CharField(max_length=255, blank=True)
    province = models.CharField(max_length=255, blank=True)
    province_code = models.CharField(max_length=16, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    zip = models.CharField(max_length=32, blank=True)
    email_marketing_state = models.CharField(max_length=32, blank=True)
    email_marketing_opt_in_level = models.CharField(max_length=32, blank=True)
    email_consent_updated_at = models.DateTimeField(null=True, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted in Shopify (customers/delete)."
    )
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="customer_unique_per_shop"),
        ]

    def __str__(self) -> str:
        return f"customer {self.shopify_id}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Customer/{self.shopify_id}"


class Order(ShopOwned):
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=64, blank=True)
    # The shopper, by Shopify id (kept even before the customer row exists) and by row.
    customer_shopify_id = models.BigIntegerField(null=True, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.CharField(max_length=320, blank=True)
    currency = models.CharField(max_length=3)
    total_price = models.DecimalField(max_digits=14, decimal_places=2)
    subtotal_price = models.DecimalField(max_digits=14, decimal_places=2)
    total_discounts = models.DecimalField(max_digits=14, decimal_places=2)
    total_tax = models.DecimalField(max_digits=14, decimal_places=2)
    # Lower-case snake forms, the same whichever way the order came (webhook or GraphQL).
    financial_status = models.CharField(max_length=32, blank=True)
    fulfillment_status = models.CharField(max_length=32, blank=True)
    shipping_city = models.CharField(max_length=255, blank=True)
    shipping_province = models.CharField(max_length=255, blank=True)
    shipping_country_code = models.CharField(max_length=2, blank=True)
    shipping_zip = models.CharField(max_length=32, blank=True)
    shopify_created_at = models.DateTimeField()
    shopify_updated_at = models.DateTimeField()
    # When Shopify emitted the state we hold (a webhook's X-Shopify-Triggered-At, sub-second):
    # breaks the tie between two states with the same second-precision updated_at.
    state_triggered_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="order_unique_per_shop"),
        ]
        indexes = [
            models.Index(fields=["shop", "customer_shopify_id"], name="order_by_customer"),
            # The admin's list of recent orders.
            models.Index(fields=["shop", "-shopify_created_at"], name="order_newest_first"),
        ]

    def __str__(self) -> str:
        return f"order {self.name or self.shopify_id}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.shopify_id}"


class OrderLine(ShopOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    shopify_id = models.BigIntegerField()
    product_id = models.BigIntegerField(null=True, blank=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=512, blank=True)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "shopify_id"], name="order_line_unique_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class Refund(ShopOwned):
    shopify_id = models.BigIntegerField()
    # A refund may arrive before its order: keep the order's Shopify id, link the row when known.
    order_shopify_id = models.BigIntegerField()
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    note = models.TextField(blank=True)
    shopify_created_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="refund_unique_per_shop"),
        ]

    def __str__(self) -> str:
        return f"refund {self.shopify_id} of order {self.order_shopify_id}"


class RefundLine(ShopOwned):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="+")
    shopify_id = models.BigIntegerField()
    line_item_shopify_id = models.BigIntegerField()
    quantity = models.IntegerField()
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    restock_type = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["refund", "shopify_id"], name="refund_line_unique_per_refund"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.line_item_shopify_id}"


class ConsentLogEntry(ShopOwned):
    """Every change of a shopper's email marketing consent, with where we learned it and when.
    Append-only: a new row per change, never an update. The same change reported twice (a webhook
    and then reconciliation) is one row: unique on shopper, state, level and Shopify's time."""

    customer_shopify_id = models.BigIntegerField()
    state = models.CharField(max_length=32)
    opt_in_level = models.CharField(max_length=32, blank=True)
    consent_updated_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=64, help_text="e.g. webhook:customers/update, admin_api:reconcile")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "customer_shopify_id", "state", "opt_in_level", "consent_updated_at"],
                name="consent_change_recorded_once",
            ),
        ]
        indexes = [models.Index(fields=["shop", "customer_shopify_id"], name="consent_by_customer")]

    def __str__(self) -> str:
        return f"customer {self.customer_shopify_id}: {self.state}"


class InventoryLevel(ShopOwned):
    inventory_item_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    available = models.IntegerField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "inventory_item_id", "location_id"], name="inventory_level_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.inventory_item_id} at {self.location_id}: {self.available}"


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


class SyncCursor(ShopOwned):
    """How far reconciliation has read each resource from the Admin API."""

    resource = models.CharField(max_length=32)
    synced_through = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "resource"], name="sync_cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} through {self.synced_through.isoformat()}"
