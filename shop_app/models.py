"""The Shop tenant: one row per Shopify store that installed Omakase."""

from typing import TypeVar
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models

from shop_app.domains import SHOP_DOMAIN_PATTERN
from shop_app.statements import statement_fetchone


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


class ShopQuerySet(models.QuerySet["Shop"]):
    def installed(self) -> "ShopQuerySet":
        """Shops that have installed the app and not uninstalled it (Shop.is_installed)."""
        return self.filter(installed_at__isnull=False, uninstalled_at__isnull=True)


class Shop(models.Model):
    domain = models.CharField(
        max_length=255,
        unique=True,
        validators=[RegexValidator(SHOP_DOMAIN_PATTERN, "Not a myshopify.com domain.")],
        help_text="The permanent myshopify.com domain, e.g. example.myshopify.com.",
    )
    shopify_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=16, default="en")
    country = models.CharField(max_length=2, blank=True)
    plan = models.CharField(max_length=64, blank=True)
    scopes = models.TextField(blank=True, help_text="The access scopes Shopify granted, comma-separated.")
    # A custom app made in the merchant's own admin (static token, no shopify.app.toml): its webhook
    # subscriptions are ours to create through the API.
    is_custom_app = models.BooleanField(default=False)
    installed_at = models.DateTimeField(null=True, blank=True)
    # The offline token and its refresh token, encrypted (shop_app.crypto); read them through
    # shop_app.tokens, never directly. A static custom-app token has no expiry and no refresh token.
    access_token_encrypted = models.TextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when Shopify refused our refresh token: nothing works for this shop until the merchant
    # opens the app again (which runs a new token exchange).
    reauthorization_required_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # Moves on after each committed change to the catalog (commerce.catalog_memory): a process
    # holding the catalog in memory reads it with the shop, on every storefront request, for free.
    catalog_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShopQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain__regex=SHOP_DOMAIN_PATTERN.pattern), name="shop_domain_is_myshopify"
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None

    @property
    def has_access_token(self) -> bool:
        return bool(self.access_token_encrypted) and self.reauthorization_required_at is None

    @property
    def granted_scopes(self) -> frozenset[str]:
        return frozenset(scope.strip() for scope in self.scopes.split(",") if scope.strip())


_SHOP_COLUMNS = [field.attname for field in Shop._meta.concrete_fields]
_INSTALLED_SHOP = (
    f"SELECT {', '.join(connection.ops.quote_name(column) for column in _SHOP_COLUMNS)} "  # noqa: S608 - identifiers are code constants; the domain is a bound parameter
    f'FROM "{Shop._meta.db_table}" WHERE domain = %s AND installed_at IS NOT NULL AND uninstalled_at IS NULL'
)


def installed_shop(domain: str) -> Shop | None:
    """The installed shop of this domain, as `Shop.objects.installed().filter(domain=domain).first()`
    finds it (the domain is unique). On PostgreSQL in one statement written out and prepared
    (shop_app.statements): every storefront and admin request reads it, and building the ORM's
    query cost several times the query. Elsewhere (SQLite, the demo) through the ORM, whose field
    converters make its times aware."""
    if connection.vendor != "postgresql":
        return Shop.objects.installed().filter(domain=domain).first()
    row = statement_fetchone(_INSTALLED_SHOP, [domain])
    return Shop.from_db(connection.alias, _SHOP_COLUMNS, row) if row is not None else None


class WorkerHeartbeat(models.Model):
    """The last time each kind of background process proved it is alive (reported by /healthz):
    beat schedules a heartbeat task, a worker runs it and stamps this row."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at.isoformat()}"


_M = TypeVar("_M", bound=models.Model)


class ShopOwnedQuerySet(models.QuerySet[_M, _M]):
    def for_shop(self, shop: Shop) -> "ShopOwnedQuerySet[_M]":
        return self.filter(shop=shop)


class ShopOwned(models.Model):
    """Base of every model that holds a shop's data (see shop_app.tenancy)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")

    objects = ShopOwnedQuerySet.as_manager()

    class Meta:
        abstract = True


# --- Background work (shop_app.work) -------------------------------------------------------------


class WorkStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed (new, or waiting for its next retry)"
    PROCESSING = "processing", "Claimed by a worker"
    DONE = "done", "Processed"
    FAILED = "failed", "Failed; stays here until replayed"
    IGNORED = "ignored", "Recorded, nothing to do (see note)"


class QueuedWork(models.Model):
    """The columns of a unit of background work. A concrete model adds what the work is about and
    a partial index on `available_at` for the rows not done yet, naming who reads it."""

    status = models.CharField(max_length=16, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # The failure's type and a message that names fields, never their values (no personal data).
    last_error = models.TextField(blank=True)
    note = models.CharField(max_length=255, blank=True)
    # When the row is next due: its creation at first, then the time of its scheduled retry. The
    # sweeper enqueues pending rows well past this time (the broker lost them, or was down).
    available_at = models.DateTimeField()
    # How many times the sweeper has sent the row again since a worker last claimed it. Each
    # re-send doubles the wait before the next (sweep_backoff), so a backlog the workers are still
    # getting through is not flooded with one more message per row a minute.
    sweeps = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Job(ShopOwned, QueuedWork):
    """A step of a shop's background work other than a webhook event: the after-install, a step of
    the import, a collection's members to read, a reconciliation pass. Each kind has one handler
    (shop_app.jobs); the row is its queue entry, its retries and its record."""

    kind = models.CharField(max_length=64)
    # What makes two jobs of one kind the same (a backfill's id, a collection's): while one waits
    # or runs, asking for it again returns it instead of queueing a second.
    key = models.CharField(max_length=255, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "key"],
                condition=models.Q(status__in=["pending", "processing"]),
                name="one_live_job_per_key",
            ),
        ]
        indexes = [
            # Read by shop_app.work.work_sweep for jobs (beat, every minute); partial, so it stays
            # as small as the backlog.
            models.Index(
                fields=["available_at"],
                name="job_not_done",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"
