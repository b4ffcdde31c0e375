"""Factories shared by every app's tests; exposed as fixtures in tests/conftest.py."""

import factory
from django.utils import timezone as django_timezone

from shop_app.models import Shop


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    name = factory.LazyAttribute(lambda shop: shop.domain.split(".")[0].replace("-", " ").title())
    currency = "USD"
    timezone = "America/New_York"
    scopes = "read_customers,read_orders,read_products"
    installed_at = factory.LazyFunction(django_timezone.now)
