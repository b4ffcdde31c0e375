"""App Home (the embedded admin's entry), the legacy OAuth install, and the shop API.

App Home installs (token exchange) and then renders the home page. The page itself belongs to the
app that reads every module (overview, at the top of the layers), which registers it here at
startup with `app_home_page_register`; without one, the shell's own page (shop_app/home.html: the
import, recent orders, webhooks, privacy requests) is shown."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from shop_app.admin import AdminApi, admin_page, frame_ancestors, response_from, shop_from
from shop_app.domains import shop_domain_normalize
from shop_app.install import TokenExchangeFailed, shop_install_from_code_grant, shop_install_from_session
from shop_app.models import Shop
from shop_app.oauth import (
    STATE_COOKIE,
    CallbackRefused,
    oauth_authorize_url,
    oauth_callback_verify,
    oauth_code_exchange,
    oauth_state_new,
    query_hmac_is_valid,
)
from shop_app.serializers import ShopSerializer
from shop_app.session_auth import RETRY_HEADER, session_verify
from shop_app.shopify_http import shopify_admin_url

logger = logging.getLogger(__name__)

# The home page: (request, shop, newly_installed) -> the page. One, registered at startup.
HomePage = Callable[[HttpRequest, Shop, bool], HttpResponse]
_home_page: list[HomePage] = []


def app_home_page_register(page: HomePage) -> None:
    """The higher app that owns the Overview gives App Home its page (in its AppConfig.ready)."""
    _home_page[:] = [page]


def _home_page_default(request: HttpRequest, shop: Shop, newly_installed: bool) -> HttpResponse:
    return admin_page(
        request, "shop_app/home.html", shop, title="Overview", context={"newly_installed": newly_installed}
    )


def _installed(shop_domain: str) -> bool:
    return Shop.objects.installed().filter(domain=shop_domain).exists()


def _development_admin_url() -> str | None:
    """Where devstore, standing in for Shopify in development, shows the app in its admin: for
    the shop that installed us last, or devstore's own shop before any has. None in production."""
    if not settings.SHOPIFY_BASE_URL_OVERRIDE:
        return None
    path = f"/admin/apps/{settings.SHOPIFY_API_KEY}"
    shop_domain = Shop.objects.installed().order_by("-installed_at").values_list("domain", flat=True).first()
    if shop_domain is None:
        return settings.SHOPIFY_BASE_URL_OVERRIDE.rstrip("/") + path
    return shopify_admin_url(shop_domain, path)


def _outside_admin_page(request: HttpRequest) -> HttpResponse:
    """The app's address opened in a tab of its own: a page (200, not an API error) saying where
    the app lives."""
    return render(request, "shop_app/outside_admin.html", {"development_admin_url": _development_admin_url()})


@require_GET
def app_home(request: HttpRequest) -> HttpResponse:
    """Shopify opens this URL in the admin iframe with a session token (`id_token`)."""
    verification = session_verify(request)
    if not verification.ok:
        shop_domain = shop_domain_normalize(request.GET.get("shop", ""))
        signed_without_token = "id_token" not in request.GET and query_hmac_is_valid(request.GET.dict())
        # Opened outside the admin by a shop that has not installed us (a signed link without a
        # session token): install through Shopify, which then embeds the app with a token.
        if shop_domain and signed_without_token and not _installed(shop_domain):
            return HttpResponseRedirect(f"/auth/install?shop={shop_domain}")
        # Opened outside the admin with nothing naming a shop or carrying a token: the patch page
        # could only answer "Bad Request"; tell the person where Omakase is opened instead.
        if not shop_domain and "id_token" not in request.GET and "Authorization" not in request.headers:
            return _outside_admin_page(request)
        return response_from(verification.response)
    try:
        outcome = shop_install_from_session(verification)
    except TokenExchangeFailed as error:
        logger.warning("token exchange failed for %s: %s", verification.shop_domain, error.code)
        if error.retry_with_new_token:
            return HttpResponse("Unauthorized", status=401, headers={RETRY_HEADER: "1"})
        return HttpResponse("Shopify could not be reached. Please try again in a moment.", status=502)
    page = _home_page[0] if _home_page else _home_page_default
    return page(request, outcome.shop, outcome.newly_installed)


@require_GET
def patch_id_token(request: HttpRequest) -> HttpResponse:
    """The page Shopify's docs call the 'patch ID token' page: App Bridge loads, obtains a fresh
    session token and reloads `shopify-reload` with it."""
    shop_domain = shop_domain_normalize(request.GET.get("shop", ""))
    if not shop_domain or not request.GET.get("shopify-reload", "").startswith("/"):
        return HttpResponseBadRequest("Bad Request")
    cdn = settings.SHOPIFY_CDN_BASE.rstrip("/")
    response = HttpResponse(
        f'<script data-api-key="{settings.SHOPIFY_API_KEY}" src="{cdn}/shopifycloud/app-bridge.js"></script>',
        content_type="text/html",
    )
    response["Content-Security-Policy"] = frame_ancestors(shop_domain)
    return response


@require_GET
def oauth_install(request: HttpRequest) -> HttpResponse:
    """Legacy install: send the merchant to Shopify's grant screen with a state nonce that is
    bound to this browser by a signed cookie."""
    shop_domain = shop_domain_normalize(request.GET.get("shop", ""))
    if shop_domain is None:
        return HttpResponseBadRequest("A valid shop domain (example.myshopify.com) is required.")
    state = oauth_state_new()
    response = HttpResponseRedirect(oauth_authorize_url(shop_domain, state))
    response.set_signed_cookie(
        STATE_COOKIE,
        state,
        salt="oauth-state",
        max_age=600,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )
    return response


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    expected_state = request.get_signed_cookie(STATE_COOKIE, default=None, salt="oauth-state", max_age=600)
    try:
        shop_domain = oauth_callback_verify(request.GET.dict(), expected_state)
        token = oauth_code_exchange(shop_domain, request.GET.get("code", ""))
    except CallbackRefused as refusal:
        logger.warning("oauth callback refused: %s", refusal)
        return HttpResponse("This installation link is not valid. Please install the app again.", status=403)
    outcome = shop_install_from_code_grant(shop_domain, token)
    # Into the app inside the merchant's admin (Shopify accepts the client id in this path).
    response = HttpResponseRedirect(
        shopify_admin_url(outcome.shop.domain, f"/admin/apps/{settings.SHOPIFY_API_KEY}")
    )
    response.delete_cookie(STATE_COOKIE)
    return response


class ShopApi(AdminApi):
    """GET /api/shop: the verified shop and its installation."""

    def get(self, request: Request) -> Response:
        return Response(ShopSerializer({"shop": shop_from(request)}).data)


class SchemaApi(SpectacularAPIView):
    """GET /api/schema/: the OpenAPI schema of the admin APIs, for a verified session like them."""

    authentication_classes = AdminApi.authentication_classes
    permission_classes = AdminApi.permission_classes
