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
<html lang="{locale}"><head><meta charset="utf-8">
<title>{title} · {shop_name} · Shopify admin (devstore)</title>
<link rel="stylesheet" href="/cdn/shopifycloud/polaris-tokens.css">
<style>
 body{{margin:0;font-family:var(--p-font-family-sans);font-size:var(--p-font-size-325);
   color:var(--p-color-text);
   background:var(--p-color-bg-inverse);-webkit-font-smoothing:antialiased}}
 header{{display:flex;align-items:center;gap:var(--p-space-400);height:56px;padding:0 var(--p-space-400);
   background:var(--p-color-bg-inverse);color:var(--p-color-text-inverse);box-sizing:border-box}}
 header .logo{{font-weight:var(--p-font-weight-bold);font-size:var(--p-font-size-400);letter-spacing:-.01em}}
 header .search{{flex:0 1 480px;margin:0 auto;height:32px;border-radius:var(--p-border-radius-200);
   background:rgba(255,255,255,.1);color:var(--p-color-text-inverse-secondary);display:flex;
   align-items:center;
   padding:0 var(--p-space-300);box-sizing:border-box}}
 header .store{{display:flex;align-items:center;gap:var(--p-space-200)}}
 header .avatar{{width:28px;height:28px;border-radius:var(--p-border-radius-200);
   background:var(--p-color-avatar-two-bg-fill);
   color:var(--p-color-avatar-two-text-on-bg-fill);display:flex;align-items:center;
   justify-content:center;font-weight:650}}
 main{{display:flex;height:calc(100vh - 56px);background:var(--p-color-bg);
   border-radius:var(--p-border-radius-300) var(--p-border-radius-300) 0 0;overflow:hidden}}
 nav.sidebar{{width:240px;flex:none;overflow:auto;padding:var(--p-space-300) var(--p-space-200);
   box-sizing:border-box;
   background:var(--p-color-nav-bg)}}
 nav.sidebar h2{{font-size:var(--p-font-size-300);font-weight:var(--p-font-weight-medium);
   color:var(--p-color-text-secondary);
   margin:var(--p-space-400) var(--p-space-200) var(--p-space-100)}}
 nav.sidebar a{{display:flex;align-items:center;gap:var(--p-space-200);
   padding:var(--p-space-100) var(--p-space-200);
   min-height:28px;box-sizing:border-box;border-radius:var(--p-border-radius-200);color:var(--p-color-text);
   text-decoration:none;font-weight:var(--p-font-weight-semibold)}}
 nav.sidebar a:hover{{background:var(--p-color-nav-bg-surface-hover)}}
 nav.sidebar a[aria-current="page"]{{background:var(--p-color-nav-bg-surface-selected);
   box-shadow:var(--p-shadow-100)}}
 nav.sidebar .icon{{width:20px;height:20px;border-radius:6px;background:var(--p-color-bg-fill-tertiary);
   flex:none}}
 #app-nav a{{font-weight:var(--p-font-weight-medium)}}
 #app-nav a:not(:first-child){{padding-left:calc(var(--p-space-200) + 28px);
   font-weight:var(--p-font-weight-regular)}}
 #app-nav a:first-child .icon{{background:var(--p-color-bg-fill-brand)}}
 iframe{{border:0;flex:1;height:100%;background:var(--p-color-bg)}}
 #save-bar{{position:fixed;top:0;left:0;right:0;height:56px;background:var(--p-color-bg-inverse);
   color:var(--p-color-text-inverse);
   display:none;align-items:center;justify-content:space-between;padding:0 var(--p-space-400);
   box-sizing:border-box;z-index:10}}
 #save-bar strong{{font-weight:var(--p-font-weight-semibold)}}
 #save-bar button{{margin-left:var(--p-space-200);padding:var(--p-space-150) var(--p-space-300);
   border-radius:var(--p-border-radius-200);
   border:0;font:inherit;font-weight:var(--p-font-weight-medium);cursor:pointer;
   background:rgba(255,255,255,.12);color:var(--p-color-text-inverse)}}
 #save-bar button.primary{{background:var(--p-color-bg-surface);color:var(--p-color-text)}}
 #toast{{position:fixed;bottom:var(--p-space-500);left:50%;transform:translateX(-50%);
   background:var(--p-color-bg-inverse);
   color:var(--p-color-text-inverse);padding:var(--p-space-300) var(--p-space-400);
   border-radius:var(--p-border-radius-200);
   box-shadow:var(--p-shadow-400);display:none}}
</style></head>
<body><header><span class="logo">shopify</span><span class="search" aria-hidden="true">Search</span>
<span class="store"><span class="avatar" aria-hidden="true">{shop_initial}</span>{shop_name}</span></header>
<main>
<nav class="sidebar" aria-label="Shopify admin">
 <a href="#"><span class="icon"></span>Home</a><a href="#"><span class="icon"></span>Orders</a>
 <a href="#"><span class="icon"></span>Products</a><a href="#"><span class="icon"></span>Customers</a>
 <a href="#"><span class="icon"></span>Marketing</a><a href="#"><span class="icon"></span>Discounts</a>
 <a href="#"><span class="icon"></span>Analytics</a>
 <h2>Sales channels</h2><a href="{theme_editor}" id="online-store"><span class="icon"></span>Online Store</a>
 <h2>Apps</h2><div id="app-nav" aria-label="{title}"></div>
</nav>
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
        const icon = document.createElement("span");
        icon.className = "icon";
        link.append(icon, document.createTextNode(item.home ? {app_name} : item.label));
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
            shop_initial=html.escape((shop["name"] or "S")[:1].upper()),
            locale=html.escape(locale.split("-")[0]),
            theme_editor=html.escape("/admin/themes/current/editor?" + urlencode({"shop": shop["domain"]})),
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
    if name not in ("app-bridge.js", "polaris.js", "polaris-tokens.css"):
        return Response("Not found", status_code=404)
    return Response(
        (CDN_FILES / name).read_text(),
        media_type="text/css" if name.endswith(".css") else "application/javascript",
        headers={"Cache-Control": "no-cache"},
    )
