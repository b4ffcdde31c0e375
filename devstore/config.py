"""Configuration from the environment and the app's shopify.app.toml."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


@dataclass(frozen=True)
class TomlSubscription:
    topics: tuple[str, ...]
    uri: str


# The owner keys of `[<owner>.metafields.app.<key>]` and the owners they name.
METAFIELD_OWNERS = {
    "customer": "Customer",
    "product": "Product",
    "variant": "ProductVariant",
    "product_variant": "ProductVariant",
    "order": "Order",
    "collection": "Collection",
    "shop": "Shop",
}


@dataclass(frozen=True)
class MetafieldDefinition:
    """An app-owned metafield definition declared in the toml (declarative custom data)."""

    owner_type: str  # as devstore stores owners: "Customer", "Product", ...
    namespace: str  # as the app writes it: "$app", or "$app:<sub>" for a sub-namespace
    key: str
    type: str
    name: str = ""
    description: str = ""
    # Each validation as the toml gives it: ("choices", ("a", "b")), ("min", 0), ...
    validations: tuple[tuple[str, Any], ...] = ()
    access: tuple[tuple[str, str], ...] = ()

    def validation(self, name: str) -> Any:
        return dict(self.validations).get(name)


@dataclass(frozen=True)
class AppToml:
    """The parts of shopify.app.toml that Shopify itself acts on."""

    name: str = "Omakase"
    handle: str = "omakase"
    application_url: str = ""
    # As the app asks for them; read_all_orders lifts the 60-day order window.
    scopes: str = "read_products,read_customers,write_customers,read_orders,read_all_orders,write_discounts"
    webhooks_api_version: str = ""
    subscriptions: tuple[TomlSubscription, ...] = ()
    compliance_uri: str = ""
    proxy_url: str = ""
    proxy_prefix: str = "apps"
    proxy_subpath: str = "omakase"
    # [auth] redirect_urls: the only redirect_uri values OAuth authorize accepts.
    redirect_urls: tuple[str, ...] = ("/auth/callback",)
    metafield_definitions: tuple[MetafieldDefinition, ...] = ()
    present: bool = False


def app_toml_load(path: Path) -> AppToml:
    """Read the toml if present; a missing file means sensible defaults."""
    if not path.is_file():
        return AppToml()
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    webhooks = data.get("webhooks", {})
    subscriptions: list[TomlSubscription] = []
    compliance_uri = ""
    for sub in webhooks.get("subscriptions", []):
        uri = str(sub.get("uri", ""))
        topics = tuple(str(t) for t in sub.get("topics", []))
        if topics:
            subscriptions.append(TomlSubscription(topics=topics, uri=uri))
        if sub.get("compliance_topics"):
            compliance_uri = uri
    proxy = data.get("app_proxy", {})
    access = data.get("access_scopes", {})
    auth = data.get("auth", {})
    name = str(data.get("name", "Omakase"))
    return AppToml(
        name=name,
        handle=str(data.get("handle", name.lower().replace(" ", "-"))),
        application_url=str(data.get("application_url", "")),
        scopes=str(access.get("scopes", AppToml.scopes)),
        webhooks_api_version=str(webhooks.get("api_version", "")),
        subscriptions=tuple(subscriptions),
        compliance_uri=compliance_uri,
        proxy_url=str(proxy.get("url", "")),
        proxy_prefix=str(proxy.get("prefix", "apps")),
        proxy_subpath=str(proxy.get("subpath", "omakase")),
        redirect_urls=tuple(str(u) for u in auth.get("redirect_urls", [])),
        metafield_definitions=metafield_definitions_read(data),
        present=True,
    )


def metafield_definitions_read(data: dict[str, Any]) -> tuple[MetafieldDefinition, ...]:
    """`[<owner>.metafields.app.<key>]` tables: namespace `$app`. Another name in place of `app`
    is a sub-namespace (`$app:<name>`), as Shopify reads it; `standard_metafields` lists are not
    definitions of the app's own."""
    found: list[MetafieldDefinition] = []
    for owner_key, section in data.items():
        owner_type = METAFIELD_OWNERS.get(owner_key)
        metafields = section.get("metafields") if isinstance(section, dict) else None
        if owner_type is None or not isinstance(metafields, dict):
            continue
        for namespace_key, keys in metafields.items():
            if not isinstance(keys, dict):
                continue
            namespace = "$app" if namespace_key == "app" else f"$app:{namespace_key}"
            for key, table in keys.items():
                validations = table.get("validations") or {}
                found.append(
                    MetafieldDefinition(
                        owner_type=owner_type,
                        namespace=namespace,
                        key=str(key),
                        type=str(table["type"]),
                        name=str(table.get("name", "")),
                        description=str(table.get("description", "")),
                        validations=tuple(
                            (str(name), tuple(value) if isinstance(value, list) else value)
                            for name, value in validations.items()
                        ),
                        access=tuple((str(k), str(v)) for k, v in (table.get("access") or {}).items()),
                    )
                )
    return tuple(found)


@dataclass
class DevstoreConfig:
    """Everything devstore needs to run, mostly from the same env vars the app reads."""

    db_path: str = "var/devstore.sqlite3"
    default_shop: str = "omakase-demo.myshopify.com"
    public_url: str = "http://127.0.0.1:8100"
    app_url: str = "http://127.0.0.1:8000"
    api_key: str = "omakase-dev-key"
    # The app's development default (config/settings/base.py): 32+ bytes, as PyJWT wants for HS256.
    api_secret: str = "omakase-development-only-shopify-api-secret"  # noqa: S105 - a dev default
    api_version: str = "2026-10"
    # The app's numeric id: Shopify resolves the app-reserved namespace `$app` to `app--<id>`.
    app_id: int = 7710021
    app_toml: AppToml = field(default_factory=AppToml)
    extensions_dir: str = "extensions"
    cdn_base: str = ""
    start_workers: bool = True
    # Stores of the app's own organization besides the default shop (its dev store): the only
    # ones where Shopify lets the app use the client credentials grant.
    organization_shops: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DevstoreConfig:
        env = dict(os.environ if environ is None else environ)
        toml_path = Path(env.get("DEVSTORE_APP_TOML", "shopify.app.toml"))
        return cls(
            db_path=env.get("DEVSTORE_DB", cls.db_path),
            default_shop=env.get("DEVSTORE_SHOP", cls.default_shop),
            public_url=env.get("DEVSTORE_URL", cls.public_url).rstrip("/"),
            app_url=env.get("APP_URL", cls.app_url).rstrip("/"),
            api_key=env.get("SHOPIFY_API_KEY", cls.api_key),
            api_secret=env.get("SHOPIFY_API_SECRET", cls.api_secret),
            api_version=env.get("SHOPIFY_API_VERSION", cls.api_version),
            app_id=int(env.get("DEVSTORE_APP_ID", cls.app_id)),
            app_toml=app_toml_load(toml_path),
            extensions_dir=env.get("DEVSTORE_EXTENSIONS", cls.extensions_dir),
            cdn_base=env.get("DEVSTORE_CDN", "").rstrip("/"),
            organization_shops=tuple(
                d.strip().lower() for d in env.get("DEVSTORE_ORGANIZATION_SHOPS", "").split(",") if d.strip()
            ),
        )

    @property
    def cdn(self) -> str:
        return self.cdn_base or self.public_url + "/cdn"

    def shop_in_app_organization(self, domain: str) -> bool:
        """Does the shop belong to the organization that develops the app? The default shop does
        (the organization's dev store), and those DEVSTORE_ORGANIZATION_SHOPS names."""
        domain = domain.lower()
        return domain == self.default_shop.lower() or domain in self.organization_shops

    def app_uri(self, uri: str) -> str:
        """Where a toml uri really points in development.

        Relative uris are relative to the app; absolute ones on the toml's
        application_url host are rebased onto APP_URL, because no machine here
        reaches the production host. Anything else (a test receiver) is kept.
        """
        if not uri:
            return self.app_url + "/webhooks/"
        if uri.startswith("/"):
            return self.app_url + uri
        parts = urlsplit(uri)
        app_host = urlsplit(self.app_toml.application_url).netloc
        if app_host and parts.netloc == app_host:
            rebased = self.app_url + (parts.path or "/")
            return rebased + (f"?{parts.query}" if parts.query else "")
        return uri

    def redirect_uri_allowed(self, redirect_uri: str) -> bool:
        """Is this OAuth redirect_uri one of the toml's [auth] redirect_urls?

        Shopify wants an exact match with a listed url. A listed url is also accepted as
        app_uri rebases it (relative, or on application_url's host -> APP_URL), so the app's
        APP_URL + "/auth/callback" works wherever the app runs in development.
        """
        wanted = _url_key(redirect_uri)
        for listed in self.app_toml.redirect_urls:
            candidates = {self.app_uri(listed)} if listed.startswith("/") else {listed, self.app_uri(listed)}
            if any(_url_key(c) == wanted for c in candidates):
                return True
        return False

    def proxy_target(self) -> str:
        """The app's proxy url, as reachable from here."""
        url = self.app_toml.proxy_url or "/proxy"
        return self.app_uri(url).rstrip("/")


def _url_key(url: str) -> tuple[str, str, str, str]:
    """What must match between a redirect_uri and an allowed url: scheme and host are
    case-insensitive, path and query exact, the fragment is not part of it."""
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query)
