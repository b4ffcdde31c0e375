"""Shops (tenants) and how a request finds its shop."""

from __future__ import annotations

from devstore.db import Database, Row
from devstore.formats import now_iso

MYSHOPIFY_SUFFIX = ".myshopify.com"


def shop_get_by_domain(db: Database, domain: str) -> Row | None:
    return db.one("SELECT * FROM shops WHERE domain = ?", (domain.lower(),))


def shop_list(db: Database) -> list[Row]:
    return db.all("SELECT * FROM shops ORDER BY id")


def shop_ensure(
    db: Database,
    domain: str,
    *,
    name: str | None = None,
    currency: str = "USD",
    timezone: str = "America/New_York",
    country_code: str = "US",
) -> Row:
    """Create the shop if it does not exist; return it either way."""
    domain = domain.lower()
    existing = shop_get_by_domain(db, domain)
    if existing is not None:
        return existing
    handle = domain.removesuffix(MYSHOPIFY_SUFFIX)
    title = name or handle.replace("-", " ").title()
    db.insert(
        "shops",
        {
            "domain": domain,
            "name": title,
            "email": f"owner@{handle}.example",
            "currency": currency,
            "timezone": timezone,
            "country_code": country_code,
            "created_at": now_iso(),
        },
    )
    shop = shop_get_by_domain(db, domain)
    assert shop is not None
    return shop


def shop_handle(shop: Row) -> str:
    return str(shop["domain"]).removesuffix(MYSHOPIFY_SUFFIX)


def shop_domain_from_host(host: str | None) -> str | None:
    """`x.myshopify.com:8100` -> `x.myshopify.com`; anything else -> None."""
    if not host:
        return None
    name = host.split(":", 1)[0].strip().lower()
    return name if name.endswith(MYSHOPIFY_SUFFIX) else None


def shop_resolve(db: Database, default_domain: str, host: str | None, shop_param: str | None = None) -> Row:
    """The shop a request is for: Host header first, then ?shop=, then the default shop.

    The app rewrites https://{shop}.myshopify.com to devstore and keeps the Host,
    so the Host is what Shopify's own routing would use.
    """
    for candidate in (shop_domain_from_host(host), (shop_param or "").lower() or None):
        if candidate:
            shop = shop_get_by_domain(db, candidate)
            if shop is not None:
                return shop
    return shop_ensure(db, default_domain)
