"""Work that other modules do when a shop is installed or uninstalled.

shop_app is the lowest layer: it cannot call the modules above it (commerce's backfill, say). They
are registered here at startup by webhooks/reactions.py, the one place where one module's events
cause work in another, so that the whole chain is read in one file, and no Django signal hides it.
"""

from collections.abc import Callable

from shop_app.models import Shop

ShopStep = Callable[[Shop], None]

_AFTER_INSTALL: list[ShopStep] = []
_ON_UNINSTALL: list[ShopStep] = []


def after_install_register(step: ShopStep) -> None:
    """Run `step(shop)` in the after-install task (a worker, outside the request), first of all."""
    if step not in _AFTER_INSTALL:
        _AFTER_INSTALL.append(step)


def on_uninstall_register(step: ShopStep) -> None:
    """Run `step(shop)` inside the uninstall's transaction, with the shop row locked."""
    if step not in _ON_UNINSTALL:
        _ON_UNINSTALL.append(step)


def after_install_steps() -> tuple[ShopStep, ...]:
    return tuple(_AFTER_INSTALL)


def on_uninstall_steps() -> tuple[ShopStep, ...]:
    return tuple(_ON_UNINSTALL)
