"""OAuth routes: the authorize (grant) page and the token endpoint."""

from __future__ import annotations

import base64
import html
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from devstore import auth
from devstore.context import Devstore
from devstore.shops import shop_handle, shop_resolve
from devstore.signing import query_hmac


def admin_host_param(shop: dict[str, Any]) -> str:
    """Shopify's `host`: base64 of admin.shopify.com/store/{name}, unpadded."""
    raw = f"admin.shopify.com/store/{shop_handle(shop)}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


async def authorize(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    params = request.query_params
    shop = shop_resolve(ds.db, ds.config.default_shop, request.headers.get("host"), params.get("shop"))
    if params.get("client_id") != ds.config.api_key:
        return HTMLResponse(
            "<h1>Oauth error invalid_request: Could not find Shopify API application with api_key</h1>",
            status_code=400,
        )
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        return HTMLResponse(
            "<h1>Oauth error invalid_request: The redirect_uri is missing</h1>", status_code=400
        )
    if not ds.config.redirect_uri_allowed(redirect_uri):
        return HTMLResponse(
            "<h1>Oauth error invalid_request: The redirect_uri is not whitelisted</h1>", status_code=400
        )
    scopes = params.get("scope") or ds.config.app_toml.scopes
    if params.get("auto") != "1":
        approve = str(request.url.include_query_params(auto="1"))
        return HTMLResponse(
            f"<!doctype html><title>Install app</title><h1>Install {html.escape(ds.config.app_toml.name)}"
            f" on {html.escape(shop['name'])}?</h1><p>Requested scopes:"
            f" <code>{html.escape(scopes)}</code></p>"
            f"<p><a id='install' href='{html.escape(approve)}'>Install app</a></p>"
        )
    code = auth.code_issue(ds.db, shop["id"], scopes)
    answer = {
        "code": code,
        "host": admin_host_param(shop),
        "shop": shop["domain"],
        "state": params.get("state", ""),
        "timestamp": str(int(time.time())),
    }
    answer["hmac"] = query_hmac(ds.config.api_secret, answer)
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(answer), status_code=302)


async def _params(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    params: dict[str, str] = dict(request.query_params)
    if content_type.startswith("application/json"):
        body = json.loads(await request.body() or b"{}")
        params.update({k: str(v) for k, v in body.items()})
    else:
        # application/x-www-form-urlencoded, parsed here to avoid a multipart dependency
        body = (await request.body()).decode()
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
    return params


async def access_token(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    try:
        params = await _params(request)
    except ValueError:
        return _token_error(request, auth.OAuthError("invalid_request", "Malformed request body"))
    shop = shop_resolve(ds.db, ds.config.default_shop, request.headers.get("host"), params.get("shop"))
    try:
        auth.client_check(ds.config.api_key, ds.config.api_secret, params)
        grant = params.get("grant_type", "")
        if grant == auth.GRANT_TOKEN_EXCHANGE:
            issued = auth.token_exchange(
                ds.db,
                ds.settings,
                shop,
                params,
                api_key=ds.config.api_key,
                api_secret=ds.config.api_secret,
                scopes=ds.config.app_toml.scopes,
            )
        elif grant == "refresh_token":
            issued = auth.token_refresh(ds.db, ds.settings, shop["id"], params.get("refresh_token"))
        elif grant == auth.GRANT_CLIENT_CREDENTIALS:
            issued = auth.client_credentials_grant(
                ds.db,
                shop,
                in_app_organization=ds.config.shop_in_app_organization(shop["domain"]),
                scopes=ds.config.app_toml.scopes,
            )
        elif params.get("code"):
            issued = auth.code_redeem(
                ds.db,
                ds.settings,
                shop["id"],
                params["code"],
                expiring=auth.flag(params.get("expiring")),
            )
        else:
            raise auth.OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant}")
    except auth.OAuthError as exc:
        return _token_error(request, exc)
    return JSONResponse(issued.as_json())


def _token_error(request: Request, error: auth.OAuthError) -> Response:
    """Shopify's token endpoint answers an error as JSON only to a client that accepts JSON;
    anyone else gets its "Oauth error" page."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(error.as_json(), status_code=error.status)
    return HTMLResponse(
        f"<h1>Oauth error {html.escape(error.code)}: {html.escape(error.description)}</h1>",
        status_code=error.status,
    )
