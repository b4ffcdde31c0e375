"""The embedded admin's shell, shared by every module's pages and APIs.

- `shop_from(request)`: the verified shop of a request, typed; the one way a view reads it.
- `AdminApi`: the one DRF base of the admin's APIs: session-token authentication, the shop, and
  the convention that each API keeps its input and output serializers beside it.
- The navigation: each module registers its pages (`admin_nav_register`, in its AppConfig.ready);
  the shell renders them as App Bridge's navigation menu on every page.
- `admin_page(...)`: a server-rendered page in the shell (templates extend shop_app/shell.html:
  navigation, title bar, App Bridge and Polaris; shell.js for the page scripts' shared helpers),
  framed only by the shop's admin.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView
from shopify_app import Res

from shop_app.models import Shop, installed_shop
from shop_app.session_auth import SessionTokenAuthentication, session_verify

P = ParamSpec("P")
# The languages of the admin pages; Shopify passes the merchant's as `locale` when it opens the app.
ADMIN_LANGUAGES = ("en", "ja")


def shop_from(request: Request | HttpRequest) -> Shop:
    """The shop a session token verified for this request (set by SessionTokenAuthentication)."""
    shop = getattr(request, "shop", None)
    if not isinstance(shop, Shop):
        raise LookupError("the request carries no verified shop")
    return shop


class AdminApi(APIView):
    """Base of every embedded-admin API: authenticated by Shopify session token, scoped to the
    token's shop. Subclasses validate input with a serializer, call a service, serialize output."""

    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def shop(self, request: Request) -> Shop:
        return shop_from(request)


@dataclass(frozen=True)
class NavItem:
    """One entry of the app's navigation in Shopify admin; `path` is the app's own URL path."""

    label: str
    path: str
    order: int = 100


_NAV: dict[str, NavItem] = {}


def admin_nav_register(item: NavItem) -> None:
    _NAV[item.path] = item


def admin_nav() -> list[NavItem]:
    """The navigation, in order. The first entry is the app's home (Overview), which App Bridge
    shows as the app's name rather than as a link."""
    return sorted(_NAV.values(), key=lambda item: (item.order, item.label))


def frame_ancestors(shop_domain: str) -> str:
    """Only the shop's admin may frame the app (and devstore's admin, when it stands in)."""
    sources = [f"https://{shop_domain}", "https://admin.shopify.com"]
    if settings.SHOPIFY_BASE_URL_OVERRIDE:
        override = urlsplit(settings.SHOPIFY_BASE_URL_OVERRIDE)
        sources.append(f"{override.scheme}://{override.netloc}")
    return f"frame-ancestors {' '.join(sources)};"


def admin_language(request: HttpRequest) -> str:
    """The merchant's language from Shopify's `locale` (e.g. "ja" or "ja-JP"), if we speak it."""
    language = request.GET.get("locale", "").split("-")[0].lower()
    return language if language in ADMIN_LANGUAGES else "en"


def admin_page(
    request: HttpRequest, template: str, shop: Shop, *, title: str, context: dict[str, object] | None = None
) -> HttpResponse:
    """Render an admin page in the shell (its template extends shop_app/shell.html), in the
    merchant's language. `title` is translated here."""
    language = admin_language(request)
    with translation.override(language):
        response = render(
            request,
            template,
            {
                "api_key": settings.SHOPIFY_API_KEY,
                "cdn_base": settings.SHOPIFY_CDN_BASE.rstrip("/"),
                "shop": shop,
                "nav": admin_nav(),
                "page_title": translation.gettext(title),
                "language": language,
                **(context or {}),
            },
        )
    response["Content-Security-Policy"] = frame_ancestors(shop.domain)
    response["Content-Language"] = language
    return response


def response_from(res: Res) -> HttpResponse:
    """A Django response of the shopifyapp package's answer (a bounce page, a 401...)."""
    response = HttpResponse(res.body, status=res.status)
    for name, value in res.headers.items():
        response[name] = value
    return response


def embedded_page(
    view: Callable[Concatenate[HttpRequest, Shop, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """An admin page other than App Home: it opens with a session token for a shop that has
    installed us (App Home installs); the view receives the shop. Without a token the package's
    bounce page fetches one and reloads."""

    @functools.wraps(view)
    def page(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        verification = session_verify(request)
        if not verification.ok:
            return response_from(verification.response)
        shop = installed_shop(verification.shop_domain)
        if shop is None:
            return HttpResponse("Open Omakase from your Shopify admin to install it.", status=401)
        return view(request, shop, *args, **kwargs)

    return page
