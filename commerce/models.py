"""What Shopify tells us, mirrored: customers, orders, refunds, consent, the catalog and its stock.

Every row belongs to a shop (ShopOwned) and is keyed by its Shopify id, an integer, unique per shop.
Shopify's own `updated_at` is kept beside each row so that a late or repeated delivery never
overwrites newer state (see commerce/ingest.py).

The tables up to the stock were created by the personalize app and moved here with their rows
(migrations 0001 and 0002 of this app); the catalog's came with 0003.
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
    """Stock of one inventory item at one location, as inventory_levels/update last told it. The
    variants of the item follow the sum of its levels (commerce.ingest.inventory_level_update)."""

    inventory_item_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    available = models.IntegerField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # X-Shopify-Triggered-At of the state held, as on Order: orders two changes in one second.
    state_triggered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "inventory_item_id", "location_id"], name="inventory_level_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.inventory_item_id} at {self.location_id}: {self.available}"


class Product(ShopOwned):
    """A product of the shop's catalog. A deleted product keeps its row, marked, so that a late
    products/update cannot bring it back (Shopify never reuses an id)."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        DRAFT = "draft"
        ARCHIVED = "archived"
        UNLISTED = "unlisted"

    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=512, blank=True)
    handle = models.CharField(max_length=255, blank=True)
    product_type = models.CharField(max_length=255, blank=True)
    vendor = models.CharField(max_length=255, blank=True)
    # Each tag between commas, ",summer,wool coat,": a Shopify tag never holds a comma, so
    # `tags__icontains=",summer,"` finds one tag exactly, on SQLite and PostgreSQL alike (a JSON
    # list's `contains` does not work on SQLite). `tag_list` reads it back as a list.
    tags = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    image_url = models.CharField(max_length=2048, blank=True)
    shopify_created_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # X-Shopify-Triggered-At of the state held, as on Order: orders two changes in one second.
    state_triggered_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted in Shopify (products/delete)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="product_unique_per_shop"),
        ]

    def __str__(self) -> str:
        return self.title or f"product {self.shopify_id}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Product/{self.shopify_id}"

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]


class Variant(ShopOwned):
    """A variant of a product: its options by name ({"Size": "M", "Color": "Blue"}), its price and
    what is available to buy now, summed over the shop's locations."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=512, blank=True)
    position = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    sku = models.CharField(max_length=255, blank=True)
    inventory_item_id = models.BigIntegerField(null=True, blank=True)
    # None when Shopify did not say. Written by product ingest and by inventory levels, whichever
    # is newer: `available_updated_at` is the time of the stock state held (commerce.ingest).
    available = models.IntegerField(null=True, blank=True)
    available_updated_at = models.DateTimeField(null=True, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="variant_unique_per_shop"),
        ]
        indexes = [
            # An inventory level finds its variants by item.
            models.Index(fields=["shop", "inventory_item_id"], name="variant_by_inventory_item"),
        ]

    def __str__(self) -> str:
        return f"variant {self.shopify_id} ({self.title})"

    @property
    def gid(self) -> str:
        return f"gid://shopify/ProductVariant/{self.shopify_id}"


class Collection(ShopOwned):
    shopify_id = models.BigIntegerField()
    handle = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=512, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    # The collection's updatedAt when the members we hold were read: collections/* webhooks carry
    # no members, so they are read from the Admin API, and a slower read of an older membership
    # must not replace a newer one.
    members_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted in Shopify (collections/delete)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="collection_unique_per_shop"),
        ]

    def __str__(self) -> str:
        return self.title or f"collection {self.shopify_id}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Collection/{self.shopify_id}"


class CollectionMembership(ShopOwned):
    """A product in a collection. The product by Shopify id (a collection may list a product before
    its row arrives) and by row, linked when known."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    product_shopify_id = models.BigIntegerField()
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "product_shopify_id"], name="collection_member_once"
            ),
        ]
        indexes = [models.Index(fields=["shop", "product_shopify_id"], name="membership_by_product")]

    def __str__(self) -> str:
        return f"product {self.product_shopify_id} in {self.collection_id}"


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


class Backfill(ShopOwned):
    """Importing a shop's existing customers, orders and catalog after install, through bulk
    operations: one per phase, each a JSONL file streamed into our tables in chunks. The row is the
    progress the admin shows, and what lets a retried task resume where the last one stopped."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Phase(models.TextChoices):
        CUSTOMERS = "customers"
        ORDERS = "orders"
        PRODUCTS = "products"
        COLLECTIONS = "collections"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.CUSTOMERS)
    bulk_operation_id = models.CharField(max_length=255, blank=True)
    lines_processed = models.PositiveIntegerField(default=0)
    customers_imported = models.PositiveIntegerField(default=0)
    orders_imported = models.PositiveIntegerField(default=0)
    products_imported = models.PositiveIntegerField(default=0)
    collections_imported = models.PositiveIntegerField(default=0)
    # How many objects the current phase's bulk operation holds, once Shopify has written it (the
    # admin shows "n of phase_total"); None while Shopify is still preparing the file.
    phase_total = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One backfill at a time per shop.
            models.UniqueConstraint(
                fields=["shop"],
                condition=models.Q(status__in=["pending", "running"]),
                name="one_active_backfill_per_shop",
            )
        ]

    def __str__(self) -> str:
        return f"backfill of {self.shop_id}: {self.status} ({self.phase})"

    @property
    def phase_imported(self) -> int:
        """How many of the current phase's objects are in."""
        return int(getattr(self, f"{self.phase}_imported"))

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
