"""How the shop's key reaches the pixel: after an install (and after a key rotation), a shop job
gives Shopify the pixel's settings, `{"key", "endpoint"}` as the extension's toml declares them,
with `webPixelCreate`, or `webPixelUpdate` once the shop has the app's web pixel. Shopify checks
them against the toml's settings definition and hands them to the pixel as `settings` on every
storefront page. The same job records the storefront's primary domain, the one origin besides
the myshopify.com domain that may post events (personalize.pixel)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.utils import timezone

from personalize.models import PixelSettings
from personalize.pixel import origin_of, pixel_endpoint, pixel_settings_for
from shop_app.admin_api import AdminClient, admin_client_for_shop
from shop_app.jobs import job_enqueue
from shop_app.models import Job, Shop

logger = logging.getLogger(__name__)

PIXEL_ACTIVATE = "personalize.pixel_activate"

WEB_PIXEL_CREATE = """
mutation OmakasePixelCreate($webPixel: WebPixelInput!) {
  webPixelCreate(webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { field message code }
  }
}
"""

WEB_PIXEL_UPDATE = """
mutation OmakasePixelUpdate($id: ID!, $webPixel: WebPixelInput!) {
  webPixelUpdate(id: $id, webPixel: $webPixel) {
    webPixel { id settings }
    userErrors { field message code }
  }
}
"""

# Without an id: the app's own web pixel on this shop.
WEB_PIXEL_QUERY = """
query OmakasePixel {
  webPixel { id settings }
}
"""

SHOP_PRIMARY_DOMAIN_QUERY = """
query OmakaseShopPrimaryDomain {
  shop { primaryDomain { url } }
}
"""


class PixelActivationError(ValueError):
    """Shopify refused the settings: bad data, not worth retrying (the job fails on record)."""


def pixel_activate_later(shop: Shop) -> None:
    """After install (shop_app.lifecycle) or a key rotation: the job, after commit."""
    job_enqueue(shop, PIXEL_ACTIVATE)


def pixel_activate_handler(job: Job) -> None:
    pixel_activate(job.shop, admin_client_for_shop(job.shop))


def pixel_activate(shop: Shop, client: AdminClient) -> PixelSettings:
    """Give the shop's pixel its settings; idempotent (an update when the pixel exists)."""
    pixel = pixel_settings_for(shop)
    settings = json.dumps({"key": pixel.key, "endpoint": pixel_endpoint()}, separators=(",", ":"))
    variables: dict[str, Any] = {"webPixel": {"settings": settings}}
    if pixel.web_pixel_gid:
        answer = client.graphql(WEB_PIXEL_UPDATE, {"id": pixel.web_pixel_gid, **variables})["webPixelUpdate"]
    else:
        answer = client.graphql(WEB_PIXEL_CREATE, variables)["webPixelCreate"]
    errors = answer.get("userErrors") or []
    if any(error.get("code") == "TAKEN" for error in errors):
        # Created before we recorded its id (a worker died after the call): update that one.
        existing = client.graphql(WEB_PIXEL_QUERY).get("webPixel") or {}
        if not existing.get("id"):
            raise PixelActivationError("Shopify says the web pixel exists but does not show it")
        answer = client.graphql(WEB_PIXEL_UPDATE, {"id": existing["id"], **variables})["webPixelUpdate"]
        errors = answer.get("userErrors") or []
    if errors:
        raise PixelActivationError(f"Shopify refused the pixel's settings: {errors}")
    primary = (client.graphql(SHOP_PRIMARY_DOMAIN_QUERY)["shop"].get("primaryDomain") or {}).get("url") or ""
    pixel.web_pixel_gid = answer["webPixel"]["id"]
    pixel.primary_origin = origin_of(primary) if primary else ""
    pixel.activated_at = timezone.now()
    pixel.save(update_fields=["web_pixel_gid", "primary_origin", "activated_at"])
    logger.info("web pixel of %s has its settings (%s)", shop.domain, pixel.web_pixel_gid)
    return pixel
