"""Storefront pages: home, collections, products, pages, cart, one-click checkout, sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from devstore import actions, catalog, customers
from devstore.context import Devstore
from devstore.db import Database, Row
from devstore.orders import OrderLine, OrderRejected
from devstore.shops import shop_resolve
from devstore.storefront import drops, pixels, session
from devstore.storefront.images import product_image_svg
from devstore.storefront.rendering import APPS_OFF, Renderer

# The shop's languages; `?locale=ja` picks one (Shopify's `request.locale`), English otherwise.
LOCALES = {"en": "English", "ja": "日本語"}
SEARCH_LIMIT = 500
# Online store pages (Shopify's `page` objects); devstore has one, where the quiz block sits.
STORE_PAGES = {
    "quiz": {
        "title": "Find your fit",
        "handle": "quiz",
        "content": "<p>A few questions, and we pick for you.</p>",
    },
}


def _shop(ds: Devstore, request: Request) -> Row:
    return shop_resolve(
        ds.db, ds.config.default_shop, request.headers.get("host"), request.query_params.get("shop")
    )


def storefront_context(ds: Devstore, request: Request) -> tuple[Row, dict[str, Any]]:
    """The shop and the objects every template sees."""
    shop = _shop(ds, request)
    customer = session.signed_in_customer(ds.db, shop, request)
    context: dict[str, Any] = {
        "shop": drops.shop_drop(shop),
        "customer": drops.customer_drop(ds.db, customer),
        "cart": drops.cart_drop(ds.db, shop["id"], session.cart_lines(request)),
        "collections": [
            {"title": c["title"], "url": f"/collections/{c['handle']}"}
            for c in catalog.collection_list(ds.db, shop["id"])
        ],
        "request": {
            "path": request.url.path,
            "host": request.headers.get("host", ""),
            "locale": _locale(request),
        },
        "shop_locales": [{"iso_code": code, "name": name} for code, name in LOCALES.items()],
        "_apps_off": request.query_params.get(APPS_OFF) == "off",
        "_shop_row": shop,
    }
    return shop, context


def _locale(request: Request) -> dict[str, Any]:
    code = request.query_params.get("locale", "en")
    code = code if code in LOCALES else "en"
    return {"iso_code": code, "name": LOCALES[code], "primary": code == "en"}


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def _render(
    request: Request, context: dict[str, Any], template: str, extra: dict[str, Any] | None = None
) -> Response:
    ds: Devstore = request.app.state.ds
    context = {**context, **(extra or {})}
    # The app's web pixel, its consent banner and this page's standard events (devstore-pixels).
    context["devstore_web_pixels"] = pixels.page_pixels(ds, request, context["_shop_row"], context, template)
    context["devstore_consent_asked"] = pixels.consent_of(request) is not None
    return HTMLResponse(_renderer(request).page(template, context))


def _page(request: Request, template: str, extra: dict[str, Any] | None = None) -> Response:
    ds: Devstore = request.app.state.ds
    _, context = storefront_context(ds, request)
    return _render(request, context, template, extra)


async def home(request: Request) -> Response:
    ds: Devstore = request.app.state.ds

    def work() -> Response:
        shop, context = storefront_context(ds, request)
        featured = [drops.product_drop(ds.db, p) for p in catalog.product_list(ds.db, shop["id"], 8)]
        return _render(request, context, "index", {"featured_products": featured})

    return await run_in_threadpool(work)


async def _by_handle(
    request: Request,
    template: str,
    lookup: Callable[[Database, int, str], Row | None],
    drop: Callable[[Database, Row], dict[str, Any]],
) -> Response:
    """A collection or product page: the row with the path's handle, as `template`'s object."""
    ds: Devstore = request.app.state.ds

    def work() -> Response:
        shop, context = storefront_context(ds, request)
        row = lookup(ds.db, shop["id"], request.path_params["handle"])
        if row is None:
            return HTMLResponse("Not found", status_code=404)
        return _render(request, context, template, {template: drop(ds.db, row)})

    return await run_in_threadpool(work)


async def collection(request: Request) -> Response:
    return await _by_handle(request, "collection", catalog.collection_get_by_handle, drops.collection_drop)


async def product(request: Request) -> Response:
    return await _by_handle(request, "product", catalog.product_get_by_handle, drops.product_drop)


async def search(request: Request) -> Response:
    """Products whose title, type or tags contain the terms (Shopify's `search` object)."""
    ds: Devstore = request.app.state.ds
    terms = request.query_params.get("q", "").strip()

    def work() -> Response:
        shop, context = storefront_context(ds, request)
        needle = terms.lower()
        found = [
            drops.product_drop(ds.db, row)
            for row in catalog.product_list(ds.db, shop["id"], SEARCH_LIMIT)
            if needle and needle in f"{row['title']} {row['product_type']} {row['tags']}".lower()
        ]
        extra = {
            "search": {
                "terms": terms,
                "results": found,
                "results_count": len(found),
                "performed": bool(terms),
            }
        }
        return _render(request, context, "search", extra)

    return await run_in_threadpool(work)


async def store_page(request: Request) -> Response:
    found = STORE_PAGES.get(request.path_params["handle"])
    if found is None:
        return HTMLResponse("Not found", status_code=404)
    return await run_in_threadpool(_page, request, "page", {"page": found})


async def product_image(request: Request) -> Response:
    """A product's drawn picture (its type's colour, its initials), by handle; any handle draws."""
    ds: Devstore = request.app.state.ds
    handle = request.path_params["handle"]

    def work() -> Response:
        shop = _shop(ds, request)
        row = catalog.product_get_by_handle(ds.db, shop["id"], handle)
        svg = product_image_svg(handle, row["title"] if row else "", row["product_type"] if row else "")
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    return await run_in_threadpool(work)


async def cart(request: Request) -> Response:
    return await run_in_threadpool(_page, request, "cart", {"error": request.query_params.get("error")})


async def cart_add(request: Request) -> Response:
    form = await session.form_data(request)
    lines = session.cart_lines(request)
    variant_id, quantity = int(form.get("id", "0")), max(1, int(form.get("quantity", "1")))
    for line in lines:
        if line["variant_id"] == variant_id:
            line["quantity"] += quantity
            break
    else:
        lines.append({"variant_id": variant_id, "quantity": quantity})
    response = RedirectResponse("/cart", status_code=303)
    session.cart_save(response, lines)
    pixels.cart_added_remember(response, variant_id, quantity)
    return response


async def checkout(request: Request) -> Response:
    """One click: the cart becomes a paid order, with every webhook Shopify would send."""
    ds: Devstore = request.app.state.ds
    form = await session.form_data(request)
    lines = [OrderLine(line["variant_id"], line["quantity"]) for line in session.cart_lines(request)]

    def work() -> Row:
        shop = _shop(ds, request)
        customer = session.signed_in_customer(ds.db, shop, request)
        return actions.order_place(
            ds,
            shop,
            lines=lines,
            customer_id=customer["id"] if customer else None,
            email=None if customer else form.get("email") or None,
            discount_code=form.get("discount") or None,
        )

    try:
        order = await run_in_threadpool(work)
    except (OrderRejected, LookupError) as exc:
        return RedirectResponse(f"/cart?error={quote(str(exc))}", status_code=303)
    response = RedirectResponse(f"/orders/{order['id']}/thank-you", status_code=303)
    session.cart_save(response, [])
    return response


async def thank_you(request: Request) -> Response:
    ds: Devstore = request.app.state.ds

    def work() -> Response:
        shop, context = storefront_context(ds, request)
        row = ds.db.one(
            "SELECT * FROM orders WHERE shop_id = ? AND id = ?", (shop["id"], int(request.path_params["id"]))
        )
        if row is None:
            return HTMLResponse("Not found", status_code=404)
        return _render(
            request,
            context,
            "thank_you",
            {"order": drops.order_drop(row)},
        )

    return await run_in_threadpool(work)


async def login(request: Request) -> Response:
    """Sign in as any customer by email (GET ?email= or POST): this is a dev store."""
    ds: Devstore = request.app.state.ds
    email = request.query_params.get("email")
    if request.method == "POST":
        email = (await session.form_data(request)).get("email")

    def work() -> Response:
        shop, context = storefront_context(ds, request)
        if email:
            found = customers.customer_get_by_email(ds.db, shop["id"], email)
            if found is not None:
                response = RedirectResponse(
                    request.query_params.get("return_to", "/account"), status_code=303
                )
                session.sign_in(response, shop, found)
                return response
        sample = [
            {"email": c["email"], "name": f"{c['first_name']} {c['last_name']}".strip()}
            for c in customers.customer_list(ds.db, shop["id"], 12)
            if c["email"]
        ]
        return _render(
            request,
            context,
            "customers/login",
            {
                "sample_customers": sample,
                "suggested_email": email or "",
                "error": "No customer with that email" if email else None,
            },
        )

    return await run_in_threadpool(work)


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    session.sign_out(response)
    return response


async def account(request: Request) -> Response:
    ds: Devstore = request.app.state.ds

    def work() -> Response:
        _, context = storefront_context(ds, request)
        if context["customer"] is None:
            return RedirectResponse("/account/login", status_code=303)
        return _render(request, context, "customers/account")

    return await run_in_threadpool(work)


async def extension_asset(request: Request) -> Response:
    """Theme extension assets, where Shopify's CDN would serve them."""
    renderer = _renderer(request)
    name, filename = request.path_params["extension"], request.path_params["filename"]
    for extension in renderer.extensions:
        if extension.name == name:
            path = (extension.path / "assets" / filename).resolve()
            if path.is_file() and path.parent == (extension.path / "assets").resolve():
                return FileResponse(path)
    return HTMLResponse("Not found", status_code=404)
