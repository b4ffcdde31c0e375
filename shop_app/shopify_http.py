"""How we reach Shopify over HTTP: one configured httpx client, with timeouts, that can send
`https://{shop}.myshopify.com` to a stand-in (devstore) in development and tests."""

from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from shopify_app import AppConfig


class ShopifyOverrideTransport(httpx.BaseTransport):
    """Sends every request for https://{shop}.myshopify.com to `base_url`, keeping the shop in the
    Host header, exactly as a reverse proxy would: the stand-in tells shops apart by Host."""

    def __init__(self, base_url: str, inner: httpx.BaseTransport | None = None) -> None:
        target = urlsplit(base_url)
        self.scheme = target.scheme
        self.host = target.hostname or "127.0.0.1"
        self.port = target.port
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".myshopify.com"):
            request.headers["Host"] = request.url.host
            request.url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def shopify_http_client() -> httpx.Client:
    """A client for calls to Shopify: (connect, read) timeouts from settings, and the stand-in
    address when SHOPIFY_BASE_URL_OVERRIDE is set. Callers close it (use it as a context manager)."""
    connect, read = settings.SHOPIFY_HTTP_TIMEOUT
    timeout = httpx.Timeout(read, connect=connect)
    override = settings.SHOPIFY_BASE_URL_OVERRIDE
    transport = ShopifyOverrideTransport(override) if override else None
    return httpx.Client(timeout=timeout, transport=transport)


def shopify_app_secrets() -> list[str]:
    """The secrets Shopify may sign with: ours, and the previous one while a rotation is under way."""
    return [
        secret for secret in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS) if secret
    ]


def shopify_app_config() -> AppConfig:
    """Our credentials in the shape the shopifyapp package takes."""
    return {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "old_client_secret": settings.SHOPIFY_API_SECRET_PREVIOUS or None,
    }


def shopify_admin_url(shop_domain: str, path: str, query: dict[str, str] | None = None) -> str:
    """The address a merchant's browser opens for `path` on the shop's admin: Shopify itself, or
    the stand-in (which takes the shop from `?shop=` since a browser cannot set Host)."""
    params = dict(query or {})
    override = settings.SHOPIFY_BASE_URL_OVERRIDE
    if override:
        params.setdefault("shop", shop_domain)
        base = override.rstrip("/")
    else:
        base = f"https://{shop_domain}"
    return f"{base}{path}?{urlencode(params)}" if params else f"{base}{path}"
