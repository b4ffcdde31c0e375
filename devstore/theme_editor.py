"""Shopify's theme editor, as far as an app's deep links reach it.

- `/admin/themes/current/editor?context=apps&activateAppId={api_key}/{embed handle}` opens the App
  embeds panel with that embed switched on, not yet saved; Save writes `config/settings_data.json`.
- `/admin/themes/current/editor?template={name}&addAppBlockId={api_key}/{block handle}&target=
  newAppsSection|mainSection` opens the template with the block added, not yet saved; Save writes
  `templates/{name}.json`.
- Opened plainly, it lists the template's sections and the app embeds, each embed with a switch.

Like Shopify, nothing changes before the merchant saves. The theme is devstore.themes; the
storefront shows what was saved at once. `POST /_devstore/theme/files` writes a file as a
developer would (Shopify's `themeFilesUpsert`), for tests that need a theme in a given state.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from devstore import themes
from devstore.context import Devstore
from devstore.db import Row
from devstore.shops import shop_resolve
from devstore.storefront.extensions import AppBlock, Extension

TARGETS = ("newAppsSection", "mainSection")
TEMPLATE_NAME = re.compile(r"^[a-z_]+(?:/[a-z_]+)?(?:\.[a-z0-9_-]+)?$")


def _shop(ds: Devstore, request: Request) -> Row:
    return shop_resolve(
        ds.db, ds.config.default_shop, request.headers.get("host"), request.query_params.get("shop")
    )


def _extensions(request: Request) -> list[Extension]:
    extensions: list[Extension] = request.app.state.renderer.extensions
    return extensions


def _app_block(ds: Devstore, request: Request, reference: str, *, embed: bool) -> AppBlock | None:
    """`{api_key}/{handle}` (Shopify's deep links name the app by its client id; the extension's
    name is taken too) -> the extension's block of that handle, an embed or a section block."""
    owner, _, handle = reference.partition("/")
    for extension in _extensions(request):
        if owner not in (ds.config.api_key, extension.name):
            continue
        for block in extension.blocks:
            if block.handle == handle and block.is_embed == embed:
                return block
    return None


def _label(block: AppBlock) -> str:
    return str(block.schema.get("name") or block.handle.replace("-", " ").capitalize())


STYLE = """
:root{color-scheme:light}
body{margin:0;font:13px/1.4 -apple-system,BlinkMacSystemFont,"San Francisco","Segoe UI",Roboto,sans-serif;
 background:#f1f1f1;color:#303030}
header{display:flex;align-items:center;gap:12px;height:48px;padding:0 12px;background:#1a1a1a;color:#e3e3e3}
header a{color:#e3e3e3;text-decoration:none}header .spacer{flex:1}
header .theme{font-weight:650}header .live{background:#cdfee1;color:#0c5132;border-radius:8px;padding:0 6px}
button{font:inherit;border-radius:8px;padding:6px 12px;border:0;cursor:pointer}
button.primary{background:#303030;color:#fff;box-shadow:inset 0 -1px 0 #000}
button.primary[disabled]{background:#b5b5b5;cursor:default}
.layout{display:grid;grid-template-columns:300px 1fr;height:calc(100vh - 48px)}
aside{background:#fff;border-right:1px solid #e3e3e3;overflow:auto;padding:12px}
aside h2{font-size:13px;font-weight:650;margin:12px 4px 6px}
aside ul{list-style:none;margin:0;padding:0}
aside li{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:6px 8px;
   border-radius:8px}
aside li.new{background:#f0f2ff}aside li .kind{color:#616161;font-size:12px}
.banner{margin:8px 4px;padding:8px 10px;border-radius:8px;background:#eaf4ff}
.banner.success{background:#cdfee1}.banner.critical{background:#fedad9}
.preview{padding:16px;overflow:hidden}.preview iframe{width:100%;height:100%;border:0;border-radius:12px;
 background:#fff;box-shadow:0 1px 0 rgba(0,0,0,.07)}
label.switch{display:flex;align-items:center;gap:6px;cursor:pointer}
"""


def _page(ds: Devstore, shop: Row, request: Request) -> str:
    query = request.query_params
    template = query.get("template", "index")
    if not TEMPLATE_NAME.match(template):
        template = "index"
    embed_ref, block_ref = query.get("activateAppId", ""), query.get("addAppBlockId", "")
    target = query.get("target", "newAppsSection")
    embed = _app_block(ds, request, embed_ref, embed=True) if embed_ref else None
    adding = _app_block(ds, request, block_ref, embed=False) if block_ref else None
    messages = []
    if query.get("saved"):
        messages.append(("success", "Saved. Your online store shows the change."))
    if (embed_ref and embed is None) or (block_ref and adding is None):
        messages.append(("critical", "That app block was not found in this theme's apps."))
    if adding is not None and not adding.shown_on(template):
        messages.append(("critical", f"{_label(adding)} can't be added to the {template} template."))
        adding = None
    if adding is not None and target not in TARGETS:
        target = "newAppsSection"

    shop_id = int(shop["id"])
    states = themes.app_embeds(ds.db, shop_id)
    data = themes.theme_json_read(ds.db, shop_id, f"templates/{template}.json")
    sections = data.get("sections", {})
    rows = []
    for section_id in data.get("order", list(sections)):
        section = sections[section_id]
        names = [
            _label(block) if block is not None else str(entry.get("type", ""))
            for entry in section.get("blocks", {}).values()
            for block in [_block_of(request, entry)]
        ]
        detail = f'<span class="kind">{html.escape(", ".join(names))}</span>' if names else ""
        rows.append(f"<li><span>{html.escape(str(section.get('type', section_id)))}</span>{detail}</li>")
    if adding is not None:
        where = "Main section" if target == "mainSection" else "New Apps section"
        rows.append(
            f'<li class="new" data-adding="{html.escape(adding.handle)}">'
            f"<span>{html.escape(_label(adding))}</span>"
            f'<span class="kind">{where} · unsaved</span></li>'
        )

    embed_rows = []
    for extension in _extensions(request):
        for block in extension.blocks:
            if not block.is_embed:
                continue
            on = states.get((extension.name, block.handle), True)
            activating = embed is not None and embed.handle == block.handle
            checked = " checked" if on or activating else ""
            embed_rows.append(
                f'<li><span>{html.escape(_label(block))}<br><span class="kind">{html.escape(extension.name)}'
                f'</span></span><label class="switch"><input type="checkbox" name="embed"'
                f' value="{html.escape(extension.name + "/" + block.handle)}"{checked}'
                f' aria-label="{html.escape(_label(block))}"></label></li>'
            )
    dirty = (
        embed is not None and not states.get((embed.extension, embed.handle), True)
    ) or adding is not None
    app_link = f"/admin/apps/{ds.config.app_toml.handle}?" + urlencode({"shop": shop["domain"]})
    preview = "/" if template == "index" else ("/products/" if template == "product" else "/")
    banners = "".join(
        f'<div class="banner {tone}" role="status">{html.escape(text)}</div>' for tone, text in messages
    )
    hidden = ""
    if adding is not None:
        reference = html.escape(adding.extension + "/" + adding.handle)
        hidden = (
            f'<input type="hidden" name="add_block" value="{reference}">'
            f'<input type="hidden" name="target" value="{html.escape(target)}">'
        )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Customize {html.escape(themes.THEME_NAME)} · {html.escape(shop["name"])}
 · Shopify admin (devstore)</title>
<style>{STYLE}</style></head><body>
<form method="post" id="theme-editor" data-dirty="{"1" if dirty else ""}">
<header><a href="{html.escape(app_link)}" id="back-to-app">&larr; Exit</a>
<span class="theme">{html.escape(themes.THEME_NAME)}</span><span class="live">Live</span>
<span>Template: {html.escape(template)}</span><span class="spacer"></span>
<button class="primary" type="submit" id="save"{"" if dirty else " disabled"}>Save</button></header>
<div class="layout"><aside>
{banners}
<input type="hidden" name="template" value="{html.escape(template)}">{hidden}
<input type="hidden" name="embeds_listed" value="1">
<h2>{html.escape(template.capitalize())}</h2><ul id="sections">{"".join(rows)}</ul>
<h2 id="app-embeds">App embeds</h2><ul>{"".join(embed_rows) or "<li>No app embeds</li>"}</ul>
</aside><div class="preview"><iframe title="Preview" src="{preview}"></iframe></div></div></form>
<script>
  const form = document.getElementById("theme-editor");
  form.addEventListener("change", () => {{ document.getElementById("save").disabled = false; }});
</script></body></html>"""


def _block_of(request: Request, entry: dict[str, Any]) -> AppBlock | None:
    found = themes.APP_BLOCK_TYPE.match(str(entry.get("type", "")))
    if not found:
        return None
    for extension in _extensions(request):
        for block in extension.blocks:
            if (extension.name, block.handle) == (found.group(1), found.group(2)):
                return block
    return None


async def editor(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    shop = await run_in_threadpool(_shop, ds, request)
    return HTMLResponse(await run_in_threadpool(_page, ds, shop, request))


def _save(ds: Devstore, shop: Row, request: Request, form: dict[str, list[str]]) -> None:
    shop_id = int(shop["id"])
    if form.get("embeds_listed"):
        wanted = set(form.get("embed", []))
        for extension in _extensions(request):
            for block in extension.blocks:
                if not block.is_embed:
                    continue
                on = f"{extension.name}/{block.handle}" in wanted
                if themes.app_embeds(ds.db, shop_id).get((extension.name, block.handle), True) != on:
                    themes.app_embed_set(ds.db, shop_id, extension.name, block.handle, enabled=on)
    for reference in form.get("add_block", []):
        extension_name, _, handle = reference.partition("/")
        template = (form.get("template") or ["index"])[0]
        target = (form.get("target") or ["newAppsSection"])[0]
        if TEMPLATE_NAME.match(template):
            themes.app_block_add(ds.db, shop_id, template, extension_name, handle, target)


async def editor_save(request: Request) -> Response:
    ds: Devstore = request.app.state.ds
    shop = await run_in_threadpool(_shop, ds, request)
    # A urlencoded form, read without python-multipart (devstore keeps its dependencies few).
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
        form.setdefault(key, []).append(value)
    await run_in_threadpool(_save, ds, shop, request, form)
    template = (form.get("template") or ["index"])[0]
    back = {"shop": shop["domain"], "template": template, "saved": "1"}
    return RedirectResponse(f"{request.url.path}?{urlencode(back)}", status_code=303)


async def theme_file_put(request: Request) -> Response:
    """POST /_devstore/theme/files {"filename", "content", "shop"?}: write one theme file."""
    ds: Devstore = request.app.state.ds
    body = json.loads(await request.body() or b"{}")
    filename = str(body.get("filename", ""))
    if not re.fullmatch(r"(config|templates)/[a-z_/.]+\.json", filename) or not isinstance(
        body.get("content"), str
    ):
        return JSONResponse({"error": "filename (config/ or templates/ JSON) and content are required"}, 400)
    shop = await run_in_threadpool(
        shop_resolve, ds.db, ds.config.default_shop, request.headers.get("host"), body.get("shop")
    )
    await run_in_threadpool(themes.theme_file_write, ds.db, int(shop["id"]), filename, body["content"])
    return JSONResponse({"ok": True})


def routes() -> list[Route]:
    return [
        Route("/admin/themes/{theme}/editor", editor, methods=["GET"]),
        Route("/admin/themes/{theme}/editor", editor_save, methods=["POST"]),
        Route("/_devstore/theme/files", theme_file_put, methods=["POST"]),
    ]
