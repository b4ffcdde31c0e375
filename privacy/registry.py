"""The registry every module plugs its privacy duties into.

Each module that holds shopper or shop data registers one PrivacyProvider in its AppConfig.ready:
how to export what it holds on a shopper, how to erase it, and how to erase a whole shop. The
privacy requests (privacy.requests) run every registered provider, so a new module is covered by
registering, not by editing this app:

    privacy_provider_register(PrivacyProvider(name="loyalty", export_shopper=points_export,
                                              erase_shopper=points_erase, erase_shop=loyalty_erase_shop))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from privacy.identifiers import email_normalize
from shop_app.models import Shop


@dataclass(frozen=True)
class ShopperRef:
    """Who a privacy request is about, as Shopify identifies them. The email is normalized
    (privacy.identifiers), as the emails we store are, so providers compare them with `=`."""

    customer_id: int | None
    email: str = ""
    phone: str = ""
    order_ids: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", email_normalize(self.email))


@dataclass(frozen=True)
class PrivacyProvider:
    name: str
    # Everything this module holds on the shopper, as JSON-ready data (a section of the export).
    export_shopper: Callable[[Shop, ShopperRef], Any]
    # Erase the shopper's personal data; anonymous aggregates may stay. Returns counts for the log.
    erase_shopper: Callable[[Shop, ShopperRef], dict[str, int]]
    # Delete everything this module holds for the shop. Returns counts for the log.
    erase_shop: Callable[[Shop], dict[str, int]]


_PROVIDERS: dict[str, PrivacyProvider] = {}


def privacy_provider_register(provider: PrivacyProvider) -> None:
    _PROVIDERS[provider.name] = provider


def privacy_providers() -> list[PrivacyProvider]:
    return [_PROVIDERS[name] for name in sorted(_PROVIDERS)]
