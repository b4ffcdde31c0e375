"""Reading the catalog as we hold it, always through the shop: what a shopper can buy now, and the
admin's product search."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform

from commerce.models import Product, Variant
from shop_app.models import Shop

PRODUCTS_SEARCH_MAX = 100


def variants_buyable(
    shop: Shop, product_ids: Iterable[int], *, option_name: str = "Size", option_value: str | None = None
) -> dict[int, list[Variant]]:
    """Of these products (Shopify ids), those a shopper can buy now, each with its variants that
    can be bought: the product active and not deleted, the variant with stock available (more than
    zero, over all locations) and, when `option_value` is given, that value of option
    `option_name` (the value compared case-insensitively: a shopper's "m" is the shop's "M").
    Products with nothing to buy are left out. One query; each variant's product comes with it."""
    variants = (
        Variant.objects.for_shop(shop)
        # The option's value as text, by name: a name may hold spaces or "__", which a
        # `options__Size` lookup would misread.
        .alias(option=KeyTextTransform(option_name, "options"))
        .filter(
            product__shopify_id__in=list(product_ids),
            product__status=Product.Status.ACTIVE,
            product__deleted_at__isnull=True,
            available__gt=0,
        )
        .select_related("product")
        .order_by("product__shopify_id", "position", "shopify_id")
    )
    if option_value is not None:
        variants = variants.filter(option__iexact=option_value)
    buyable: dict[int, list[Variant]] = {}
    for variant in variants:
        buyable.setdefault(variant.product.shopify_id, []).append(variant)
    return buyable


@dataclass(frozen=True)
class ProductListing:
    """A product with its variants, in Shopify's order."""

    product: Product
    variants: list[Variant]

    @property
    def available(self) -> int | None:
        """The stock of all its variants; None when Shopify told us none of them."""
        known = [variant.available for variant in self.variants if variant.available is not None]
        return sum(known) if known else None


def products_search_for_shop(shop: Shop, query: str = "", limit: int = 20) -> list[ProductListing]:
    """The shop's products (not deleted) whose title, handle, vendor, product type or a variant's
    SKU contains `query` (any case), by title, each with its variants. Two queries."""
    products = Product.objects.for_shop(shop).filter(deleted_at__isnull=True)
    query = query.strip()
    if query:
        products = products.filter(
            Q(title__icontains=query)
            | Q(handle__icontains=query)
            | Q(vendor__icontains=query)
            | Q(product_type__icontains=query)
            | Q(pk__in=Variant.objects.for_shop(shop).filter(sku__icontains=query).values("product_id"))
        )
    found = list(products.order_by("title", "shopify_id")[: min(limit, PRODUCTS_SEARCH_MAX)])
    variants: dict[int, list[Variant]] = {product.pk: [] for product in found}
    for variant in (
        Variant.objects.for_shop(shop)
        .filter(product__in=found)
        .order_by("product_id", "position", "shopify_id")
    ):
        variants[variant.product_id].append(variant)
    return [ProductListing(product, variants[product.pk]) for product in found]
