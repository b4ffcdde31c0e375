"""Installing and uninstalling: the life of a Shop row.

Managed install: Shopify installs the app with the toml's scopes and opens the app URL with a
session token; we exchange that token for an expiring offline token (shop_install_from_session).
Custom apps bring a static Admin API token instead (shop_connect_custom_app). After either, a
job runs shop_after_install: the steps other modules registered (the backfill), the shop's
details, and a custom app's webhook subscriptions.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from shopify_app import token_exchange

from shop_app.admin_api import AdminClient, admin_client_for_shop
from shop_app.jobs import job_enqueue
from shop_app.lifecycle import after_install_steps, on_uninstall_steps
from shop_app.models import Job, Shop
from shop_app.session_auth import SessionVerification
from shop_app.shopify_http import shopify_app_config, shopify_http_client
from shop_app.tokens import (
    IssuedToken,
    ShopNotAuthorized,
    TokenRefreshUnavailable,
    issued_token_from_exchange,
    shop_access_token,
    shop_token_is_fresh,
    shop_tokens_drop,
    shop_tokens_store,
)
from shop_app.webhook_subscriptions import shop_webhook_subscriptions_ensure

logger = logging.getLogger(__name__)


class TokenExchangeFailed(Exception):
    def __init__(self, code: str, detail: str, *, retry_with_new_token: bool) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        # True when Shopify refused the session token itself: App Bridge should get a fresh one.
        self.retry_with_new_token = retry_with_new_token


@dataclass(frozen=True)
class InstallOutcome:
    shop: Shop
    newly_installed: bool


def _exchange_session_token(verification: SessionVerification) -> IssuedToken:
    with shopify_http_client() as http:
        result = token_exchange(
            "offline",
            shopify_app_config(),
            id_token={"exchangeable": True, "token": verification.token, "claims": verification.claims},
            expiring=True,
            http_client=http,
        )
    if not result.ok or result.access_token is None:
        refused_token = result.log.code in ("invalid_subject_token", "invalid_id_token", "unauthorized")
        raise TokenExchangeFailed(result.log.code, result.log.detail, retry_with_new_token=refused_token)
    return issued_token_from_exchange(result.access_token)


def _shop_record_install(shop: Shop, token: IssuedToken) -> bool:
    """Store the token and mark the shop installed; True if this is a (re)install."""
    newly_installed = not shop.is_installed
    if newly_installed:
        # A reinstall starts clean: nothing from the earlier installation carries over but the
        # shop's own data (which shop/redact deletes if the merchant does not come back).
        shop.installed_at = timezone.now()
        shop.uninstalled_at = None
        shop.save(update_fields=["installed_at", "uninstalled_at", "updated_at"])
    shop_tokens_store(shop, token)
    return newly_installed


AFTER_INSTALL_JOB = "shop_app.after_install"


def _after_install(shop: Shop) -> None:
    job_enqueue(shop, AFTER_INSTALL_JOB)


def shop_install_from_session(verification: SessionVerification) -> InstallOutcome:
    """App Home's first step: make sure we hold a working offline token for the verified shop,
    running the token exchange when we don't (first launch, reinstall, token lost or refused)."""
    shop, _ = Shop.objects.get_or_create(domain=verification.shop_domain)
    if shop.is_installed and shop.has_access_token:
        if shop_token_is_fresh(shop):
            return InstallOutcome(shop, newly_installed=False)
        try:
            shop_access_token(shop)
            return InstallOutcome(shop, newly_installed=False)
        except (ShopNotAuthorized, TokenRefreshUnavailable):
            logger.info("refresh failed for %s; exchanging the session token instead", shop.domain)
    token = _exchange_session_token(verification)
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        newly_installed = _shop_record_install(shop, token)
        if newly_installed:
            _after_install(shop)
    logger.info("token exchange for %s (%s)", shop.domain, "install" if newly_installed else "renewal")
    return InstallOutcome(shop, newly_installed)


def shop_install_from_code_grant(
    shop_domain: str, token: IssuedToken, *, custom_app: bool = False
) -> InstallOutcome:
    """The legacy OAuth code grant finished (or a custom app was connected): record the shop and
    its token."""
    with transaction.atomic():
        shop, _ = Shop.objects.select_for_update().get_or_create(domain=shop_domain)
        if shop.is_custom_app != custom_app:
            shop.is_custom_app = custom_app
            shop.save(update_fields=["is_custom_app", "updated_at"])
        newly_installed = _shop_record_install(shop, token)
        _after_install(shop)
    return InstallOutcome(shop, newly_installed)


def shop_connect_custom_app(shop_domain: str, access_token: str, scopes: str = "") -> InstallOutcome:
    """A merchant's custom app: a static Admin API token, no expiry, no refresh token."""
    return shop_install_from_code_grant(
        shop_domain, IssuedToken(access_token=access_token, scopes=scopes), custom_app=True
    )


SHOP_DETAILS_QUERY = """
query ShopDetails {
  shop {
    id name email currencyCode ianaTimezone
    plan { displayName }
    billingAddress { countryCodeV2 }
  }
}
"""


def shop_details_sync(shop: Shop, client: AdminClient) -> Shop:
    """Copy the shop's name, currency, time zone, plan and country from Shopify."""
    details = client.graphql(SHOP_DETAILS_QUERY)["shop"]
    shop.shopify_id = int(str(details["id"]).rsplit("/", 1)[-1])
    shop.name = details.get("name") or shop.name
    shop.email = details.get("email") or shop.email
    shop.currency = details.get("currencyCode") or shop.currency
    shop.timezone = details.get("ianaTimezone") or shop.timezone
    shop.plan = (details.get("plan") or {}).get("displayName") or shop.plan
    shop.country = (details.get("billingAddress") or {}).get("countryCodeV2") or shop.country
    shop.full_clean(validate_unique=False, validate_constraints=False)
    # Only these columns: an uninstall or a token refresh may have happened during the API call,
    # and saving the whole row would put back what this instance held before it.
    shop.save(
        update_fields=["shopify_id", "name", "email", "currency", "timezone", "plan", "country", "updated_at"]
    )
    return shop


def shop_uninstall(shop: Shop) -> None:
    """app/uninstalled: the shop is marked uninstalled and its tokens dropped at once. Everything
    scheduled for it stops: periodic jobs only visit installed shops, and every task checks that
    its shop is still installed before it calls Shopify. shop/redact deletes the data later."""
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        if locked.uninstalled_at is None:
            locked.uninstalled_at = timezone.now()
            locked.save(update_fields=["uninstalled_at", "updated_at"])
        shop_tokens_drop(locked)
        for step in on_uninstall_steps():
            step(locked)
    shop.refresh_from_db()
    logger.info("uninstalled %s", shop.domain)


def shop_after_install_run(job: Job) -> None:
    """The after-install job's handler."""
    shop_after_install(job.shop)


def shop_after_install(shop: Shop) -> None:
    """After an install, in a worker: the steps other modules registered come first (the import of
    the store's history must not wait on anything below), then the shop's details and, for a custom
    app, its webhook subscriptions. Idempotent: each step checks what exists before creating it."""
    for step in after_install_steps():
        step(shop)
    try:
        client = admin_client_for_shop(shop)
        shop_details_sync(shop, client)
        if shop.is_custom_app:
            shop_webhook_subscriptions_ensure(client)
    except ShopNotAuthorized:
        logger.warning("after-install of %s stopped: the shop's token is gone", shop.domain)
