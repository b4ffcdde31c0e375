"""Tenant data belongs to a shop, and every query on it goes through that shop.

Shop-owned models inherit ShopOwned. Their rows are read through named accessors that take the
shop first (`order_get_for_shop(shop, order_id)`), built on `for_shop()`; a bare `.get(pk=...)`
on tenant data is a bug waiting for a second shop.
"""

from typing import Any, TypeVar

from django.db import models

from shop_app.models import Shop

_M = TypeVar("_M", bound=models.Model)


class ShopOwnedQuerySet(models.QuerySet[_M, _M]):
    def for_shop(self, shop: Shop) -> "ShopOwnedQuerySet[_M]":
        return self.filter(shop=shop)


class ShopOwned(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")

    objects = ShopOwnedQuerySet.as_manager()

    class Meta:
        abstract = True


def get_for_shop(model: type[_M], shop: Shop, **lookup: Any) -> _M:
    """The one row of `model` that belongs to `shop` and matches `lookup`; DoesNotExist otherwise,
    including when the row exists but belongs to another shop."""
    return model._default_manager.filter(shop=shop).get(**lookup)
