"""Tenant data belongs to a shop, and every query on it goes through that shop.

Shop-owned models inherit ShopOwned. Their rows are read through named accessors that take the
shop first (`order_get_for_shop(shop, order_id)`), built on `for_shop()` or `get_for_shop()`; a
bare `.get(pk=...)` on tenant data is a bug waiting for a second shop.
"""

from typing import Any, TypeVar

from django.db import models

from shop_app.models import Shop, ShopOwned, ShopOwnedQuerySet

__all__ = ["ShopOwned", "ShopOwnedQuerySet", "get_for_shop"]

_M = TypeVar("_M", bound=models.Model)


def get_for_shop(model: type[_M], shop: Shop, **lookup: Any) -> _M:
    """The one row of `model` that belongs to `shop` and matches `lookup`; DoesNotExist otherwise,
    including when the row exists but belongs to another shop."""
    return model._default_manager.filter(shop=shop).get(**lookup)
