"""The Shop tenant: one row per Shopify store that installed Omakase."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from shop_app.domains import SHOP_DOMAIN_PATTERN


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


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
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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
    def granted_scopes(self) -> frozenset[str]:
        return frozenset(scope.strip() for scope in self.scopes.split(",") if scope.strip())


class WorkerHeartbeat(models.Model):
    """The last time each kind of background process proved it is alive (read by /healthz
    and the admin): beat schedules a heartbeat task, a worker runs it and stamps this row."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at.isoformat()}"
