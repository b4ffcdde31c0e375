import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from shop_app.domains import shop_domain_is_valid, shop_domain_normalize
from shop_app.models import Shop, installed_shop


@pytest.mark.parametrize(
    "domain",
    ["example.myshopify.com", "my-shop-2.myshopify.com", "a.myshopify.com"],
)
def test_valid_shop_domains_are_accepted(domain: str) -> None:
    assert shop_domain_is_valid(domain)


@pytest.mark.parametrize(
    "domain",
    [
        "example.myshopify.com.evil.com",
        "evil.com/example.myshopify.com",
        "example.myshopify.com/",
        "https://example.myshopify.com",
        "-example.myshopify.com",
        "exa_mple.myshopify.com",
        "example.myshopify.io",
        "example.myshopify.com\n",
        "",
    ],
)
def test_anything_around_a_shop_domain_is_refused(domain: str) -> None:
    assert not shop_domain_is_valid(domain)


def test_normalizing_lowercases_and_trims() -> None:
    assert shop_domain_normalize("  Example.MyShopify.com ") == "example.myshopify.com"
    assert shop_domain_normalize("example.com") is None


def test_shop_validation_rejects_a_bad_domain_and_timezone(db: None) -> None:
    shop = Shop(domain="not-a-shop.example.com", timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as raised:
        shop.full_clean()
    assert set(raised.value.message_dict) >= {"domain", "timezone"}


def test_the_database_refuses_a_bad_domain_even_without_validation(db: None) -> None:
    with pytest.raises(IntegrityError):
        Shop.objects.create(domain="evil.com")


def test_shop_domains_are_unique(shop: Shop) -> None:
    with pytest.raises(IntegrityError):
        Shop.objects.create(domain=shop.domain)


def test_installed_state_and_scopes(shop: Shop) -> None:
    assert shop.is_installed
    assert shop.granted_scopes == {"read_customers", "read_orders", "read_products"}


@pytest.mark.django_db
def test_installed_shop_reads_what_the_orm_would() -> None:
    installed = Shop.objects.create(
        domain="open.myshopify.com", installed_at=timezone.now(), country="JP", catalog_version=7
    )
    Shop.objects.create(
        domain="gone.myshopify.com", installed_at=timezone.now(), uninstalled_at=timezone.now()
    )
    Shop.objects.create(domain="never.myshopify.com")

    found = installed_shop("open.myshopify.com")

    assert found is not None
    assert {f.attname: getattr(found, f.attname) for f in Shop._meta.concrete_fields} == {
        f.attname: getattr(installed, f.attname) for f in Shop._meta.concrete_fields
    }
    assert installed_shop("gone.myshopify.com") is None
    assert installed_shop("never.myshopify.com") is None
    assert installed_shop("nobody.myshopify.com") is None
