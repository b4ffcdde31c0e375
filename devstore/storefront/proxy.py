"""The app proxy: /apps/omakase/* forwarded, signed, to the app's proxy URL.

As Shopify does it: the shopper's query is kept, `shop`, `logged_in_customer_id`,
`path_prefix`, `timestamp` and `signature` are added, cookies are stripped both ways, and an
`application/liquid` answer is rendered inside the theme's layout.
"""

from __future__ import annotations

import contextlib
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlencode

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from devstore.context import Devstore
from devstore.signing import app_proxy_signature
from devstore.storefront.pages import storefront_context
from devstore.storefront.rendering import Renderer

ADDED = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
PROXY_TIMEOUT = 10.0
# Hop-by-hop and cookie headers never cross the proxy.
DROPPED_RESPONSE_HEADERS = {
    "set-cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
    "keep-alive",
}


def proxy_client() -> httpx.AsyncClient:
    """The client the proxy forwards with: one for the server's life (its lifespan opens it), as
    making one costs tens of milliseconds (its TLS context). It keeps no cookie: cookies never
    cross the proxy, and one shopper's must never reach another's request."""
    return httpx.AsyncClient(
        timeout=PROXY_TIMEOUT, cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    )


def signed_query(
    secret: str,
    shopper_query: list[tuple[str, str]],
    *,
    shop_domain: str,
    customer_id: int | None,
    path_prefix: str,
    now: int | None = None,
) -> list[tuple[str, str]]:
    """The forwarded query: the shopper's own pairs plus Shopify's, and the signature."""
    pairs = [(k, v) for k, v in shopper_query if k not in ADDED]
    pairs += [
        ("shop", shop_domain),
        ("logged_in_customer_id", str(customer_id) if customer_id else ""),
        ("path_prefix", path_prefix),
        ("timestamp", str(now or int(time.time()))),
    ]
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return [*pairs, ("signature", app_proxy_signature(secret, grouped))]


async def app_proxy(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    toml = ds.config.app_toml
    shop, context = await run_in_threadpool(storefront_context, ds, request)
    customer = context["customer"]
    query = signed_query(
        ds.config.api_secret,
        list(request.query_params.multi_items()),
        shop_domain=shop["domain"],
        customer_id=customer["id"] if customer else None,
        path_prefix=f"/{toml.proxy_prefix}/{toml.proxy_subpath}",
    )
    rest = request.path_params.get("path", "")
    target = f"{ds.config.proxy_target()}/{rest}"
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() in ("accept", "content-type", "user-agent", "accept-language")
    }
    headers["X-Forwarded-For"] = request.client.host if request.client else "127.0.0.1"
    headers["X-Forwarded-Host"] = request.headers.get("host", "")
    shared: httpx.AsyncClient | None = getattr(request.app.state, "proxy_client", None)
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Without the lifespan (a TestClient used without `with`), a client for this request.
            client = shared if shared is not None else await stack.enter_async_context(proxy_client())
            answer = await client.request(
                request.method, target, params=urlencode(query), content=await request.body(), headers=headers
            )
    except httpx.HTTPError:
        return HTMLResponse("<h1>Proxy error</h1><p>The app did not answer.</p>", status_code=502)
    content_type = answer.headers.get("content-type", "")
    if content_type.startswith("application/liquid"):
        renderer: Renderer = request.app.state.renderer
        page = await run_in_threadpool(
            lambda: renderer.page("page", context, content=renderer.string(answer.text, context))
        )
        return HTMLResponse(page, status_code=answer.status_code)
    passed = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=passed)
