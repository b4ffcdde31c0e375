"""Session tokens: how the embedded admin proves, on every request, which shop and user it is.

Shopify's App Bridge hands the page a short-lived HS256 JWT signed with our API secret; the page
sends it as `Authorization: Bearer <token>` (or as `id_token` on the first document load). We
verify it with the shopifyapp package, then check what the package leaves to us.
"""

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from shopify_app import Res, verify_app_home_req

from shop_app.domains import shop_domain_is_valid
from shop_app.models import Shop, installed_shop
from shop_app.shopify_http import shopify_app_config

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"  # noqa: S105 - a path, not a secret
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"
# Shopify's session tokens live one minute (exp = iat + 60). The package (PyJWT underneath) checks
# exp, nbf and iat against the clock, with 10 s leeway, only when they are present, and bounds no
# lifetime: a token without exp would never expire, and one minted for a year would serve a year.
SESSION_TOKEN_MAX_LIFETIME_SECONDS = 120
SESSION_TOKEN_LEEWAY_SECONDS = 10


@dataclass(frozen=True)
class SessionVerification:
    """The outcome of verifying a launch or API request. When not ok, `response` is what Shopify
    expects us to answer (a 302 to the patch page, or a 401 with the retry header)."""

    ok: bool
    response: Res
    shop_domain: str = ""
    user_id: str = ""
    token: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


def shopify_request_input(request: HttpRequest) -> dict[str, Any]:
    return {
        "method": request.method or "GET",
        "headers": dict(request.headers.items()),
        "url": request.build_absolute_uri(),
        "body": "",
    }


def _unauthorized(retry: bool = True) -> Res:
    return Res(status=401, body="Unauthorized", headers={RETRY_HEADER: "1"} if retry else {})


def session_token_times_are_shopifys(claims: dict[str, Any], *, now: float | None = None) -> bool:
    """Could Shopify have issued a token with these times? exp, nbf and iat all present, and the
    token meant to live at most SESSION_TOKEN_MAX_LIFETIME_SECONDS, from its issue and from now."""
    times = [claims.get(name) for name in ("exp", "nbf", "iat")]
    numbers = [value for value in times if isinstance(value, int | float) and not isinstance(value, bool)]
    if len(numbers) != len(times):
        return False
    expires, _, issued = numbers
    current = time.time() if now is None else now
    return (
        expires - issued <= SESSION_TOKEN_MAX_LIFETIME_SECONDS
        and expires <= current + SESSION_TOKEN_MAX_LIFETIME_SECONDS + SESSION_TOKEN_LEEWAY_SECONDS
    )


def session_verify(request: HttpRequest) -> SessionVerification:
    """Verify the session token of an App Home document load (`id_token` in the query) or of an
    API call (`Authorization: Bearer`): signature with the current or previous secret, expiry and
    not-before with 10 s leeway, audience = our API key, then the claims the package leaves open:
    a lifetime Shopify would issue, and dest and iss naming the same shop."""
    result = verify_app_home_req(
        shopify_request_input(request),  # type: ignore[arg-type]
        shopify_app_config(),
        PATCH_ID_TOKEN_PATH,
    )
    if not result.ok or result.id_token is None:
        return SessionVerification(ok=False, response=result.response)
    claims = dict(result.id_token.claims)
    if not session_token_times_are_shopifys(claims):
        return SessionVerification(ok=False, response=_unauthorized())
    shop_domain = urlsplit(str(claims.get("dest", ""))).hostname or ""
    issuer = urlsplit(str(claims.get("iss", ""))).hostname or ""
    # dest must be exactly a shop domain, and the issuer that shop's admin.
    if not shop_domain_is_valid(shop_domain) or issuer != shop_domain:
        return SessionVerification(ok=False, response=_unauthorized())
    return SessionVerification(
        ok=True,
        response=result.response,
        shop_domain=shop_domain,
        user_id=str(claims.get("sub", "")),
        token=result.id_token.token,
        claims=claims,
    )


@dataclass(frozen=True)
class ShopUser:
    """The merchant's staff member behind a verified session token, acting in one shop."""

    shop: Shop
    user_id: str
    is_authenticated: bool = True
    is_anonymous: bool = False


class InvalidSessionToken(exceptions.AuthenticationFailed):
    """401 with Shopify's header telling App Bridge to fetch a fresh token and retry once."""

    default_detail = "Invalid or expired session token."
    default_code = "invalid_session_token"


class SessionTokenAuthentication(BaseAuthentication):
    """DRF authentication for the embedded admin's APIs. After it, `request.shop` is the verified
    shop and every API view scopes its queries to it."""

    def authenticate(self, request: Request) -> tuple[ShopUser, SessionVerification] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None  # DRF answers 401 NotAuthenticated (with our header, see exception handler)
        verification = session_verify(request._request)
        if not verification.ok:
            raise InvalidSessionToken()
        shop = installed_shop(verification.shop_domain)
        if shop is None:
            # A valid token for a shop that has not (re)installed: App Home must run first.
            raise exceptions.AuthenticationFailed("This shop has not installed the app.")
        request.shop = shop  # type: ignore[attr-defined]
        return ShopUser(shop=shop, user_id=verification.user_id), verification

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="omakase"'
