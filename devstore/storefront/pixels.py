"""The storefront runs the app's web pixel as Shopify's web pixels manager does.

Every page carries, in `{% render 'devstore-pixels' %}`, its pixel configuration: the app's pixel
(the built `dist/` bundle) with the shop's settings (what `webPixelCreate` stored), its privacy
needs from the toml, the `init` object Shopify hands a pixel (customer, cart, shop), and the
standard events of this page in Shopify's payload shapes: `product_viewed` on a product page,
`collection_viewed` on a collection, `search_submitted` on a search, `product_added_to_cart` on the
page after `/cart/add`. `web-pixels-manager.js` then shows the consent banner until the shopper
chooses, and, only with the permissions the pixel declares, runs it in a Web Worker (Shopify's
strict sandbox: no DOM, `fetch`, and the APIs `register` hands it) and publishes the events to it.
Without consent no worker is made, no client id cookie is set, and nothing is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from devstore import catalog, web_pixels
from devstore.context import Devstore
from devstore.db import Row
from devstore.storefront.images import product_image_url

WPM = Path(__file__).parent / "wpm"
# Shopify's consent cookie, in devstore's own plain spelling: {"analytics": bool, "marketing":
# bool, "preferences": bool, "sale_of_data": bool}; absent until the shopper chooses.
CONSENT_COOKIE = "_tracking_consent"
# What /cart/add leaves for the next page to publish as product_added_to_cart.
ADDED_COOKIE = "devstore_cart_added"
COLLECTION_VARIANTS_MAX = 20


def consent_of(request: Request) -> dict[str, bool] | None:
    """The shopper's choice, or None when they have not chosen."""
    raw = request.cookies.get(CONSENT_COOKIE)
    try:
        value = json.loads(unquote(raw)) if raw else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return {
        name: value.get(name) is True for name in ("analytics", "marketing", "preferences", "sale_of_data")
    }


def page_pixels(ds: Devstore, request: Request, shop: Row, context: dict[str, Any], template: str) -> str:
    """The page's pixel configuration as JSON for the snippet ("" when the app has no active
    pixel on this shop, or the page is rendered without the app)."""
    if context.get("_apps_off"):
        return ""
    extension = web_pixels.pixel_extension_load(Path(ds.config.extensions_dir))
    record = web_pixels.web_pixel_get(ds.db, shop["id"]) if extension else None
    if extension is None or record is None:
        return ""
    currency = shop["currency"]
    config = {
        "pixels": [
            {
                "id": f"gid://shopify/WebPixel/{record['id']}",
                "handle": extension.handle,
                "src": f"/wpm/pixels/{extension.handle}.js",
                "runtime_context": extension.runtime_context,
                "settings": json.loads(record["settings"]),
                "needs": {
                    name: extension.needs(name)
                    for name in ("analytics", "marketing", "preferences", "sale_of_data")
                },
            }
        ],
        "sandbox": "/wpm/sandbox.js",
        "consent": consent_of(request),
        "init": {
            "customer": _customer(context.get("customer")),
            "cart": _cart(ds, shop, context.get("cart") or {}, currency),
            "shop": {
                "name": shop["name"],
                "myshopifyDomain": shop["domain"],
                "countryCode": shop["country_code"],
                "paymentSettings": {"currencyCode": currency},
                "storefrontUrl": ds.config.public_url,
            },
            "purchasingCompany": None,
        },
        "events": _events(ds, request, shop, context, template=template, currency=currency),
    }
    # Inside <script type="application/json">: no "</script>" may close it early.
    return json.dumps(config).replace("<", "\\u003c")


def _customer(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    if not customer:
        return None
    return {
        "id": str(customer["id"]),
        "email": customer.get("email"),
        "firstName": customer.get("first_name"),
        "lastName": customer.get("last_name"),
        "phone": None,
        "ordersCount": customer.get("orders_count"),
    }


def _money(cents: int, currency: str) -> dict[str, Any]:
    return {"amount": cents / 100, "currencyCode": currency}


def _variant(product: dict[str, Any], variant: dict[str, Any] | None, currency: str) -> dict[str, Any]:
    """A ProductVariant as pixel events carry it, from the product and variant drops."""
    variant = variant or {}
    return {
        "id": str(variant["id"]) if variant.get("id") else None,
        "title": variant.get("title"),
        "untranslatedTitle": variant.get("title"),
        "sku": variant.get("sku") or None,
        "price": _money(int(variant.get("price", product.get("price", 0))), currency),
        "image": {"src": product.get("featured_image")},
        "product": {
            "id": str(product["id"]),
            "title": product["title"],
            "untranslatedTitle": product["title"],
            "type": product.get("type") or None,
            "vendor": product.get("vendor") or "",
            "url": product.get("url"),
        },
    }


def _first_variant(product: dict[str, Any], currency: str) -> dict[str, Any]:
    return _variant(product, product.get("selected_or_first_available_variant"), currency)


def _events(
    ds: Devstore, request: Request, shop: Row, context: dict[str, Any], *, template: str, currency: str
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    product, collection, search = context.get("product"), context.get("collection"), context.get("search")
    if template == "product" and product:
        events.append(
            {"name": "product_viewed", "data": {"productVariant": _first_variant(product, currency)}}
        )
    if template == "collection" and collection:
        events.append(
            {
                "name": "collection_viewed",
                "data": {
                    "collection": {
                        "id": str(collection["id"]),
                        "title": collection["title"],
                        "productVariants": [
                            _first_variant(item, currency)
                            for item in collection.get("products", [])[:COLLECTION_VARIANTS_MAX]
                        ],
                    }
                },
            }
        )
    if template == "search" and search and search.get("performed"):
        events.append(
            {
                "name": "search_submitted",
                "data": {
                    "searchResult": {
                        "query": search["terms"],
                        "productVariants": [
                            _first_variant(item, currency) for item in search["results"][:20]
                        ],
                    }
                },
            }
        )
    added = cart_added_of(request)
    if added is not None:
        line = _cart_line(ds, shop, added["variant_id"], added["quantity"], currency)
        if line is not None:
            events.append({"name": "product_added_to_cart", "data": {"cartLine": line}})
    return events


def _cart_line(
    ds: Devstore, shop: Row, variant_id: int, quantity: int, currency: str
) -> dict[str, Any] | None:
    variant = catalog.variant_get(ds.db, shop["id"], variant_id)
    product = catalog.product_get(ds.db, shop["id"], variant["product_id"]) if variant else None
    if variant is None or product is None:
        return None
    cents = round(float(variant["price"]) * 100)
    merchandise = _variant(
        {
            "id": product["id"],
            "title": product["title"],
            "type": product["product_type"],
            "vendor": product["vendor"],
            "url": f"/products/{product['handle']}",
            "featured_image": product["image_url"] or product_image_url(product["handle"]),
        },
        {"id": variant["id"], "title": variant["title"], "sku": variant["sku"], "price": cents},
        currency,
    )
    return {
        "quantity": quantity,
        "merchandise": merchandise,
        "cost": {"totalAmount": _money(cents * quantity, currency)},
    }


def _cart(ds: Devstore, shop: Row, cart: dict[str, Any], currency: str) -> dict[str, Any] | None:
    if not cart.get("items"):
        return None
    return {
        "totalQuantity": cart.get("item_count", 0),
        "cost": {"totalAmount": _money(int(cart.get("total_price", 0)), currency)},
        "lines": [
            line
            for item in cart["items"]
            if (line := _cart_line(ds, shop, item["variant_id"], item["quantity"], currency)) is not None
        ],
    }


def cart_added_of(request: Request) -> dict[str, int] | None:
    raw = request.cookies.get(ADDED_COOKIE, "")
    variant, _, quantity = raw.partition(":")
    if not variant.isdigit() or not quantity.isdigit():
        return None
    return {"variant_id": int(variant), "quantity": int(quantity)}


def cart_added_remember(response: Response, variant_id: int, quantity: int) -> None:
    """/cart/add: the next page publishes product_added_to_cart (its manager clears the cookie)."""
    response.set_cookie(ADDED_COOKIE, f"{variant_id}:{quantity}", max_age=60, samesite="lax")


async def wpm_file(request: Request) -> Response:
    """The web pixels manager and its sandbox, where Shopify's CDN would serve them."""
    name = request.path_params["name"]
    if name not in ("web-pixels-manager.js", "sandbox.js"):
        return Response("Not found", status_code=404)
    return FileResponse(
        WPM / name, media_type="application/javascript", headers={"Cache-Control": "no-cache"}
    )


async def pixel_bundle(request: Request) -> Response:
    """The app's built pixel (`npm run build:pixel`, as `shopify app deploy` builds it)."""
    ds: Devstore = request.app.state.ds
    extension = web_pixels.pixel_extension_load(Path(ds.config.extensions_dir))
    if (
        extension is None
        or request.path_params["handle"] != extension.handle
        or not extension.bundle.is_file()
    ):
        return Response("Not found (build the pixel: npm run build:pixel)", status_code=404)
    return FileResponse(
        extension.bundle, media_type="application/javascript", headers={"Cache-Control": "no-cache"}
    )
