"""The Starlette application: Shopify's endpoints plus the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route

from devstore import admin, control, mail, oauth, theme_editor, themes
from devstore.admin_api import bulk
from devstore.admin_api.endpoint import graphql_endpoint
from devstore.config import DevstoreConfig
from devstore.context import Devstore
from devstore.shops import shop_ensure
from devstore.storefront import pages, pixels
from devstore.storefront.extensions import extensions_load
from devstore.storefront.proxy import app_proxy, proxy_client
from devstore.storefront.rendering import Renderer


def create_app(config: DevstoreConfig | None = None, ds: Devstore | None = None) -> Starlette:
    """Build the app; workers start with the app's lifespan (TestClient runs it too)."""
    ds = ds or Devstore.open(config or DevstoreConfig.from_env())
    shop_ensure(ds.db, ds.config.default_shop)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ds.config.start_workers:
            ds.webhooks.start()
            bulk.bulk_operations_resume(ds)
            mail.mail_catcher_start()
        app.state.proxy_client = proxy_client()
        try:
            yield
        finally:
            await app.state.proxy_client.aclose()
            app.state.proxy_client = None
            mail.mail_catcher_stop()
            ds.webhooks.stop()

    routes = [
        Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
        Route("/admin/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/admin/oauth/access_token", oauth.access_token, methods=["POST"]),
        *control.routes(),
        *mail.routes(),
        *_admin_routes(),
        *theme_editor.routes(),
        *_storefront_routes(ds),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ds = ds
    app.state.renderer = Renderer(
        extensions_load(Path(ds.config.extensions_dir)),
        asset_base="/extensions-assets",
        # The shop's theme as its editor saved it (devstore.themes), over the theme on disk.
        files=lambda shop_id, filename: themes.theme_file_read(ds.db, shop_id, filename),
    )
    return app


def _admin_routes() -> list[Route]:
    return [
        Route("/admin", admin.admin_home, methods=["GET"]),
        Route("/admin/apps/{handle}", admin.app_page, methods=["GET"]),
        Route("/admin/apps/{handle}/session-token", admin.app_session_token, methods=["GET", "POST"]),
        Route("/admin/apps/{handle}/{path:path}", admin.app_page, methods=["GET"]),
        Route("/cdn/shopifycloud/{name}", admin.cdn_file, methods=["GET"]),
    ]


def _storefront_routes(ds: Devstore) -> list[Route]:
    toml = ds.config.app_toml
    proxy_root = f"/{toml.proxy_prefix}/{toml.proxy_subpath}"
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [
        Route(proxy_root, app_proxy, methods=every),
        Route(proxy_root + "/{path:path}", app_proxy, methods=every),
        Route("/", pages.home, methods=["GET"]),
        Route("/collections/{handle}", pages.collection, methods=["GET"]),
        Route("/products/{handle}", pages.product, methods=["GET"]),
        Route("/pages/{handle}", pages.store_page, methods=["GET"]),
        Route("/search", pages.search, methods=["GET"]),
        Route("/cdn/shop/products/{handle}.svg", pages.product_image, methods=["GET"]),
        Route("/cart", pages.cart, methods=["GET"]),
        Route("/cart/add", pages.cart_add, methods=["POST"]),
        Route("/checkout", pages.checkout, methods=["POST"]),
        Route("/orders/{id:int}/thank-you", pages.thank_you, methods=["GET"]),
        Route("/account", pages.account, methods=["GET"]),
        Route("/account/login", pages.login, methods=["GET", "POST"]),
        Route("/account/logout", pages.logout, methods=["GET"]),
        Route("/extensions-assets/{extension}/assets/{filename}", pages.extension_asset, methods=["GET"]),
        Route("/wpm/pixels/{handle}.js", pixels.pixel_bundle, methods=["GET"]),
        Route("/wpm/{name}", pixels.wpm_file, methods=["GET"]),
    ]
