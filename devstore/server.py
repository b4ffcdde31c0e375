"""The Starlette application: Shopify's endpoints plus the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from devstore import control, oauth
from devstore.admin_api.endpoint import graphql_endpoint
from devstore.config import DevstoreConfig
from devstore.context import Devstore
from devstore.shops import shop_ensure


def create_app(config: DevstoreConfig | None = None, ds: Devstore | None = None) -> Starlette:
    """Build the app; workers start with the app's lifespan (TestClient runs it too)."""
    ds = ds or Devstore.open(config or DevstoreConfig.from_env())
    shop_ensure(ds.db, ds.config.default_shop)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ds.config.start_workers:
            ds.webhooks.start()
        try:
            yield
        finally:
            ds.webhooks.stop()

    routes = [
        Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
        Route("/admin/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/admin/oauth/access_token", oauth.access_token, methods=["POST"]),
        *control.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ds = ds
    return app
