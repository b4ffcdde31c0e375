"""The Shopify admin, as far as an embedded app sees it: the app page framing APP_URL with
launch parameters, session tokens on request, and the App Bridge and Polaris stand-ins."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from devstore.auth import ACCOUNT_OWNER_USER_ID
from devstore.context import Devstore
from devstore.db import Row
from devstore.oauth import admin_host_param
from devstore.shops import shop_resolve
from devstore.signing import query_hmac, session_token_issue

CDN_FILES = Path(__file__).parent / "storefront" / "cdn"


def _admin_session_token(ds: Devstore, shop: Row) -> str:
    return session_token_issue(
        shop_domain=shop["domain"],
        api_key=ds.config.api_key,
        api_secret=ds.config.api_secret,
        user_id=ACCOUNT_OWNER_USER_ID,
        ttl=ds.settings.session_token_ttl,
    )


def _shop(ds: Devstore, request: Request) -> Row:
    return shop_resolve(
        ds.db, ds.config.default_shop, request.headers.get("host"), request.query_params.get("shop")
    )


def launch_params(ds: Devstore, shop: Row, locale: str = "en") -> dict[str, str]:
    """What Shopify adds when it opens an embedded app: signed like the OAuth callback. `locale` is
    the merchant's admin language (devstore takes it from the admin address's own `locale`)."""
    params = {
        "embedded": "1",
        "host": admin_host_param(shop),
        "id_token": _admin_session_token(ds, shop),
        "locale": locale,
        "shop": shop["domain"],
        "timestamp": str(int(time.time())),
    }
    params["hmac"] = query_hmac(ds.config.api_secret, params)
    return params


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} · {shop_name} · Shopify admin (devstore)</title>
<style>
 body{{margin:0;font-family:system-ui,sans-serif;background:#f1f1f1}}
 header{{background:#1a1a1a;color:#fff;padding:10px 16px}}
 main{{display:flex}}
 nav{{width:220px;min-height:calc(100vh - 44px);padding:12px 8px;box-sizing:border-box}}
 nav h2{{font-size:13px;color:#616161;margin:8px 8px}}
 nav a{{display:block;padding:6px 8px;border-radius:8px;color:#303030;text-decoration:none;font-size:14px}}
 nav a[aria-current="page"]{{background:#fff;font-weight:600}}
 iframe{{border:0;flex:1;height:calc(100vh - 44px);background:#fff}}
 #save-bar{{position:fixed;top:0;left:0;right:0;height:44px;background:#1a1a1a;color:#fff;display:none;
   align-items:center;justify-content:space-between;padding:0 16px;box-sizing:border-box;z-index:10}}
 #save-bar button{{margin-left:8px;padding:6px 12px;border-radius:8px;border:1px solid #666;
   background:#303030;color:#fff}}
 #save-bar button.primary{{background:#fff;color:#1a1a1a}}
 #toast{{position:fixed;bottom:20px;left:50%;transform:translateX(-50%);background:#303030;color:#fff;
   padding:8px 16px;border-radius:8px;display:none}}
</style></head>
<body><header>{shop_name} / Apps / {title}</header>
<main>
<nav aria-label="{title}"><h2>Apps</h2><div id="app-nav"></div></nav>
<iframe id="app-iframe" name="app-iframe" src="{src}" title="{title}"></iframe>
</main>
<div id="toast" role="status"></div>
<div id="save-bar" role="region" aria-label="Unsaved changes"><strong>Unsaved changes</strong>
 <span><button type="button" data-action="discard">Discard</button>
 <button type="button" class="primary" data-action="save">Save</button></span></div>
<script>
  const tokenUrl = {token_url};
  window.addEventListener("message", async (event) => {{
    const data = event.data || {{}};
    const frame = document.getElementById("app-iframe").contentWindow;
    if (data.type === "devstore:requestIdToken") {{
      const answer = await fetch(tokenUrl, {{method: "POST"}}).then((r) => r.json());
      frame.postMessage({{type: "devstore:idToken", requestId: data.requestId,
                          token: answer.session_token}}, "*");
    }} else if (data.type === "devstore:navMenu") {{
      // The app's <ui-nav-menu>, as Shopify's sidebar shows it: the home entry is the app's name.
      const place = document.getElementById("app-nav");
      place.replaceChildren(...(data.items || []).map((item) => {{
        const link = document.createElement("a");
        link.textContent = item.home ? {app_name} : item.label;
        link.href = {app_base} + item.path.slice(1) + {shop_query};
        if (item.path === data.current) link.setAttribute("aria-current", "page");
        return link;
      }}));
    }} else if (data.type === "devstore:saveBar") {{
      document.getElementById("save-bar").style.display = data.visible ? "flex" : "none";
    }} else if (data.type === "devstore:toast") {{
      const toast = document.getElementById("toast");
      toast.textContent = data.message; toast.style.display = "block";
      setTimeout(() => {{ toast.style.display = "none"; }}, (data.options || {{}}).duration || 3000);
    }}
  }});
  document.querySelectorAll("#save-bar button").forEach((button) => button.addEventListener("click", () => {{
    document.getElementById("app-iframe").contentWindow.postMessage(
      {{type: "devstore:saveBarAction", action: button.dataset.action}}, "*");
  }}));
</script></body></html>"""


async def app_page(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    handle = request.path_params["handle"]
    # Shopify opens an app by its handle or by its client id.
    if handle not in (ds.config.app_toml.handle, ds.config.api_key):
        return HTMLResponse("<h1>App not installed</h1>", status_code=404)
    shop = await run_in_threadpool(_shop, ds, request)
    locale = request.query_params.get("locale", "en")
    if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", locale):
        locale = "en"
    params = await run_in_threadpool(launch_params, ds, shop, locale)
    path = request.path_params.get("path", "")
    src = f"{ds.config.app_url}/{path}?{urlencode(params)}"
    token_url = f"/admin/apps/{handle}/session-token?{urlencode({'shop': shop['domain']})}"
    return HTMLResponse(
        PAGE.format(
            title=html.escape(ds.config.app_toml.name),
            shop_name=html.escape(shop["name"]),
            src=html.escape(src),
            token_url=json.dumps(token_url),
            app_name=json.dumps(ds.config.app_toml.name),
            app_base=json.dumps(f"/admin/apps/{handle}/"),
            # The sidebar's links keep the merchant's language.
            shop_query=json.dumps(
                "?" + urlencode({"shop": shop["domain"], **({"locale": locale} if locale != "en" else {})})
            ),
        )
    )


async def app_session_token(request: Request) -> Response:
    """A fresh id token for the admin user, as App Bridge gets from the admin."""
    ds: Devstore = request.app.state.ds
    shop = await run_in_threadpool(_shop, ds, request)
    return JSONResponse({"session_token": _admin_session_token(ds, shop)})


async def admin_home(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    return RedirectResponse(f"/admin/apps/{ds.config.app_toml.handle}", status_code=302)


async def cdn_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ("app-bridge.js", "polaris.js"):
        return Response("Not found", status_code=404)
    return Response(
        (CDN_FILES / name).read_text(),
        media_type="application/javascript",
        headers={"Cache-Control": "no-cache"},
    )
